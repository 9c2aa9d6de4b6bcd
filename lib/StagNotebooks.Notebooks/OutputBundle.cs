using System.Text.Json;
using System.Text.Json.Nodes;

namespace StagNotebooks.Notebooks;

/// <summary>
/// A display bundle (an output's <c>data</c>) as nbformat stores it. The .NET Interactive kernel (1.0.712001 in Jupyter,
/// and the in-process kernel alike) hands every mime type's value over as a string and parses only
/// <c>application/json</c> (its Jupyter side, ExecuteRequestHandler.PreserveJson); nbformat's schema and JupyterLab's
/// renderers want an object for every JSON mime type (<c>application/json</c>, <c>*+json</c> such as
/// <c>application/vnd.plotly.v1+json</c>). So both runners pass each bundle through <see cref="Normalize"/> when they
/// write the notebook: a JSON mime type's string becomes the value it spells (one that is not JSON stays a string, which
/// <see cref="CommittedNotebook"/> reports), and an empty value (a PNG that could not be rendered) is dropped.
/// </summary>
public static class OutputBundle
{
    public static bool IsJsonMime(string mime) => mime == "application/json" || mime.EndsWith("+json", StringComparison.Ordinal);

    /// <summary>The bundle as nbformat stores it.</summary>
    public static JsonObject Normalize(JsonObject data)
    {
        var result = new JsonObject();
        foreach (var (mime, value) in data)
        {
            if (value is JsonValue v && v.TryGetValue<string>(out var text))
            {
                if (text.Length == 0) continue;
                result[mime] = IsJsonMime(mime) ? Parse(text) : text;
            }
            else result[mime] = value?.DeepClone();
        }
        return result;
    }

    /// <summary>Every display_data and execute_result bundle of the notebook, normalized in place.</summary>
    public static void NormalizeAll(NotebookDocument doc)
    {
        foreach (var cell in doc.Cells.OfType<JsonObject>())
            if (cell["outputs"] is JsonArray outputs)
                foreach (var output in outputs.OfType<JsonObject>())
                    if (output["data"] is JsonObject data)
                        output["data"] = Normalize(data);
    }

    static JsonNode Parse(string text)
    {
        try { return JsonNode.Parse(text) ?? JsonValue.Create(text); }
        catch (JsonException) { return JsonValue.Create(text); }
    }
}
