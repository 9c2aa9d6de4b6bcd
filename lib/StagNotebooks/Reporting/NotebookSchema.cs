using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace StagNotebooks.Reporting;

/// <summary>One way an .ipynb breaks the nbformat 4 schema: where (a JSON pointer such as "/cells/1/outputs/0"), which keyword, why.</summary>
public sealed record NotebookSchemaError(string Location, string Keyword, string Message)
{
    public override string ToString() => $"{(Location.Length == 0 ? "/" : Location)}: {Message} ({Keyword})";
}

/// <summary>
/// Validates notebooks against the Jupyter nbformat 4.5 JSON schema (vendored beside this file, see
/// nbformat.NOTICE.txt) with JsonSchema.Net, so checking a notebook needs only .NET (no Python nbformat).
/// The schema says draft-04; it uses only keywords whose meaning draft-07 keeps (no id, no exclusiveMinimum), so it
/// is evaluated as draft-07, which JsonSchema.Net implements.
/// </summary>
public static class NotebookSchema
{
    const string ResourceName = "StagNotebooks.Reporting.nbformat.v4.schema.json";
    static readonly Lazy<JsonSchema> Schema = new(Load);

    /// <summary>The schema violations of the notebook at <paramref name="ipynbPath"/>; empty when it is valid nbformat 4.
    /// Throws <see cref="InvalidDataException"/> naming the file and line when it is not JSON.</summary>
    public static IReadOnlyList<NotebookSchemaError> Validate(string ipynbPath)
    {
        JsonNode? doc;
        try { doc = JsonNode.Parse(File.ReadAllText(ipynbPath)); }
        catch (JsonException e) { throw new InvalidDataException($"{ipynbPath}: not JSON (line {e.LineNumber + 1}): {e.Message}", e); }
        return ValidateJson(doc);
    }

    /// <summary>As <see cref="Validate"/>, for a notebook already parsed.</summary>
    public static IReadOnlyList<NotebookSchemaError> ValidateJson(JsonNode? notebook)
    {
        var results = Schema.Value.Evaluate(notebook, new EvaluationOptions { OutputFormat = OutputFormat.Hierarchical, EvaluateAs = SpecVersion.Draft7 });
        var errors = new List<NotebookSchemaError>();
        Collect(results, errors);
        // A failure inside oneOf (the cell and output types) reports every branch; deepest locations first reads best.
        return errors.OrderByDescending(e => e.Location.Count(c => c == '/')).ThenBy(e => e.Location, StringComparer.Ordinal).ToList();
    }

    /// <summary>Errors of failed evaluations only: a oneOf that passed also holds its failed branches, which are no error.</summary>
    static void Collect(EvaluationResults r, List<NotebookSchemaError> errors)
    {
        if (r.IsValid) return;
        if (r.Errors != null)
            foreach (var (keyword, message) in r.Errors)
            {
                var e = new NotebookSchemaError(r.InstanceLocation.ToString(), keyword, message);
                if (!errors.Contains(e)) errors.Add(e);
            }
        foreach (var child in r.Details) Collect(child, errors);
    }

    static JsonSchema Load()
    {
        using var stream = typeof(NotebookSchema).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"embedded resource {ResourceName} is missing from {typeof(NotebookSchema).Assembly.Location}");
        var node = JsonNode.Parse(stream)!.AsObject();
        node["$schema"] = "http://json-schema.org/draft-07/schema#";
        return JsonSchema.FromText(node.ToJsonString());
    }
}
