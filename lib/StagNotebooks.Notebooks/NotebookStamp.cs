using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using StagNotebooks.Reporting;

namespace StagNotebooks.Notebooks;

/// <summary>How a notebook was executed: by which runner, with which overrides, how long it took.</summary>
public sealed record StampInfo(string Runner, IReadOnlyDictionary<string, string> Parameters, double Seconds);

/// <summary>
/// The record an executed notebook carries of what it was executed from, so that <see cref="CommittedNotebook"/> can
/// tell a committed notebook whose outputs no longer belong to its source. The one definition, used by
/// <c>stag notebook run</c> and, through <c>stag notebook stamp</c>, by tests/jupyter/run_notebooks.py:
/// <list type="bullet">
/// <item>each code cell: <c>metadata.stag.source_sha256</c>, the SHA-256 (lower-case hex) of the cell's source as one
/// UTF-8 string (nbformat's list of lines joined with nothing between them);</item>
/// <item>the notebook: <c>metadata.stag</c> with the runner, when, seconds, the kernel, the effective Preset and Seeds,
/// the overrides given, the commit of the code (GitCommit: "+dirty" when the working tree had changes) and
/// <c>code_cells</c>, the number of code cells executed (so a removed cell is noticed).</item>
/// </list>
/// </summary>
public static class NotebookStamp
{
    public const string Key = "stag";
    public const string InjectedTag = "injected-parameters";

    public static string SourceSha256(string source) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(source)));

    /// <summary>
    /// Clears what an earlier execution left, so a notebook executed in place starts clean: outputs, execution counts,
    /// cell and notebook stamps, and the injected-parameters cell (the new run injects its own).
    /// </summary>
    public static void Reset(NotebookDocument doc)
    {
        for (int i = doc.Cells.Count - 1; i >= 0; i--)
        {
            var cell = (JsonObject)doc.Cells[i]!;
            if (NotebookDocument.Tags(cell).Contains(InjectedTag)) { doc.Cells.RemoveAt(i); continue; }
            if (cell["metadata"] is JsonObject meta) { meta.Remove(Key); meta.Remove("execution"); }
            if (!NotebookDocument.IsCode(cell)) continue;
            cell["outputs"] = new JsonArray();
            cell["execution_count"] = null;
        }
        (doc.Root["metadata"] as JsonObject)?.Remove(Key);
    }

    /// <summary>Stamps every code cell with its source hash and the notebook with how it was executed.</summary>
    public static void Apply(NotebookDocument doc, StampInfo info)
    {
        int codeCells = 0;
        foreach (var cell in doc.Cells.OfType<JsonObject>().Where(NotebookDocument.IsCode))
        {
            var meta = cell["metadata"] as JsonObject ?? new JsonObject();
            cell["metadata"] = meta;
            var stag = meta[Key] as JsonObject ?? new JsonObject();
            meta[Key] = stag;
            stag["source_sha256"] = SourceSha256(NotebookDocument.Source(cell));
            codeCells++;
        }
        var root = doc.Root["metadata"] as JsonObject ?? new JsonObject();
        doc.Root["metadata"] = root;
        root[Key] = new JsonObject
        {
            ["runner"] = info.Runner,
            ["executed"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
            ["seconds"] = Math.Round(info.Seconds, 1),
            ["kernel"] = Kernel(root, info.Runner),
            ["preset"] = Effective(doc, "Preset", info.Parameters),
            ["seeds"] = Effective(doc, "Seeds", info.Parameters),
            ["parameters"] = new JsonObject(info.Parameters.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))),
            ["commit"] = GitCommit.Current,
            ["code_cells"] = codeCells,
        };
    }

    /// <summary>The value a parameter took: the override, else the literal the parameters cell declares (unquoted); null when undeclared.</summary>
    public static string? Effective(NotebookDocument doc, string name, IReadOnlyDictionary<string, string> overrides)
    {
        var cell = doc.Cells.OfType<JsonObject>().FirstOrDefault(c => NotebookDocument.Tags(c).Contains("parameters"));
        if (cell is null || !ParametersCell.Declared(NotebookDocument.Source(cell)).TryGetValue(name, out var literal)) return null;
        if (overrides.TryGetValue(name, out var value)) return value;
        return literal.Length >= 2 && literal[0] == '"' && literal[^1] == '"' ? literal[1..^1] : literal;
    }

    static string InformationalVersion(System.Reflection.Assembly assembly) =>
        (assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false).FirstOrDefault()
            as System.Reflection.AssemblyInformationalVersionAttribute)?.InformationalVersion.Split('+')[0] ?? assembly.GetName().Version?.ToString() ?? "?";

    static string Kernel(JsonObject metadata, string runner) =>
        runner == NotebookRunner.RunnerName
            ? $".NET Interactive {InformationalVersion(typeof(Microsoft.DotNet.Interactive.Kernel).Assembly)} (in-process)"
            : $"{metadata["kernelspec"]?["name"]} ({metadata["language_info"]?["name"]} {metadata["language_info"]?["version"]})".Trim();
}
