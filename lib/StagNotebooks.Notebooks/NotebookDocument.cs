using System.Text.Json;
using System.Text.Json.Nodes;
using StagNotebooks.IO;

namespace StagNotebooks.Notebooks;

/// <summary>
/// A Polyglot (.NET Interactive) notebook as nbformat 4 JSON. Kept as a JSON tree so metadata we do not know
/// survives a read-execute-write round trip. <see cref="Create"/> writes new notebooks with the Polyglot
/// kernelspec and per-cell metadata that VS Code and Jupyter expect.
/// </summary>
public sealed class NotebookDocument
{
    public JsonObject Root { get; }
    public JsonArray Cells => (JsonArray)Root["cells"]!;

    NotebookDocument(JsonObject root) => Root = root;

    public static NotebookDocument Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such notebook");
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a notebook (invalid JSON: {e.Message})"); }
        if (node is not JsonObject o || o["cells"] is not JsonArray) throw new InvalidDataException($"{path}: not a notebook (no \"cells\" list)");
        return new NotebookDocument(o);
    }

    /// <summary>
    /// Writes the notebook atomically, indented, with text as it reads (≤, ×, "+json" unescaped), as Jupyter's nbformat
    /// writes it (ensure_ascii off): diffs of committed notebooks stay legible and non-ASCII text takes no \uXXXX escape.
    /// </summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, Root.ToJsonString(WriteOptions) + "\n");

    static readonly JsonSerializerOptions WriteOptions = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public NotebookDocument Clone() => new((JsonObject)JsonNode.Parse(Root.ToJsonString())!);

    /// <summary>The cell's source as one string (nbformat allows a string or a list of lines).</summary>
    public static string Source(JsonObject cell) => cell["source"] switch
    {
        JsonArray a => string.Concat(a.Select(l => l?.GetValue<string>() ?? "")),
        JsonValue v => v.GetValue<string>(),
        _ => "",
    };

    public static IReadOnlyList<string> Tags(JsonObject cell) =>
        cell["metadata"]?["tags"] is JsonArray tags ? tags.Select(t => t!.GetValue<string>()).ToList() : Array.Empty<string>();

    public static bool IsCode(JsonObject cell) => cell["cell_type"]?.GetValue<string>() == "code";

    // ---- writing new notebooks ----

    public sealed record Cell(string Type, string Source, IReadOnlyList<string> Tags)
    {
        public static Cell Markdown(string text) => new("markdown", text.Trim('\n'), Array.Empty<string>());
        public static Cell Code(string source, params string[] tags) => new("code", source.Trim('\n'), tags);
    }

    static JsonArray Lines(string text)
    {
        var parts = text.Split('\n');
        return new JsonArray(parts.Select((l, i) => (JsonNode)JsonValue.Create(i < parts.Length - 1 ? l + "\n" : l)!).ToArray());
    }

    public static NotebookDocument Create(params Cell[] cells)
    {
        var array = new JsonArray();
        int n = 0;
        foreach (var c in cells)
        {
            var cell = new JsonObject
            {
                ["cell_type"] = c.Type,
                ["id"] = $"cell-{++n:D2}",
                ["metadata"] = c.Type == "code"
                    ? new JsonObject
                    {
                        ["dotnet_interactive"] = new JsonObject { ["language"] = "csharp" },
                        ["polyglot_notebook"] = new JsonObject { ["kernelName"] = "csharp" },
                    }
                    : new JsonObject(),
                ["source"] = Lines(c.Source),
            };
            if (c.Tags.Count > 0) ((JsonObject)cell["metadata"]!)["tags"] = new JsonArray(c.Tags.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray());
            if (c.Type == "code") { cell["execution_count"] = null; cell["outputs"] = new JsonArray(); }
            array.Add(cell);
        }
        var root = new JsonObject
        {
            ["cells"] = array,
            ["metadata"] = new JsonObject
            {
                ["kernelspec"] = new JsonObject { ["display_name"] = ".NET (C#)", ["language"] = "C#", ["name"] = ".net-csharp" },
                ["language_info"] = new JsonObject { ["name"] = "csharp" },
                ["polyglot_notebook"] = new JsonObject
                {
                    ["kernelInfo"] = new JsonObject
                    {
                        ["defaultKernelName"] = "csharp",
                        ["items"] = new JsonArray(new JsonObject { ["aliases"] = new JsonArray(), ["name"] = "csharp" }),
                    },
                },
            },
            ["nbformat"] = 4,
            ["nbformat_minor"] = 5,
        };
        return new NotebookDocument(root);
    }

    internal static JsonArray LinesOf(string text) => Lines(text);
}
