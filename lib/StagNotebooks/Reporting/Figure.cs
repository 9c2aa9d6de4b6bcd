using System.Text.Json;
using System.Text.Json.Nodes;

namespace StagNotebooks.Reporting;

/// <summary>
/// A plotly.js figure: traces and layout exactly as plotly.js names them (https://plotly.com/javascript/reference/).
/// Why not Plotly.NET's GenericChart: Plotly.NET 6 needs FSharp.Core 10.1, while the .NET Interactive kernel
/// (1.0.712001, the last release) has FSharp.Core 10.0 loaded; inside the kernel Plotly.NET then fails with
/// MissingMethodException (environment.md). plotly.js itself still comes from the Plotly.NET package.
/// </summary>
public sealed class Figure
{
    public JsonArray Data { get; } = new();
    public JsonObject Layout { get; } = new();

    /// <summary>Where the figure came from (preset, seeds, commit…), shown under the title and kept in saved files.</summary>
    public string? Provenance { get; set; }

    /// <summary>Where <see cref="FigureWriter.SaveChart"/> last wrote the figure's standalone HTML (null: never saved).</summary>
    public string? SavedHtml { get; set; }

    public string Title => Layout["title"]?["text"]?.GetValue<string>() ?? "";
    public int Width => Layout["width"]?.GetValue<int>() ?? 900;
    public int Height => Layout["height"]?.GetValue<int>() ?? 520;

    public string DataJson() => Script(Data.ToJsonString(Options));

    public string LayoutJson()
    {
        var layout = (JsonObject)Layout.DeepClone();
        if (Provenance is { Length: > 0 } p)
            layout["title"] = new JsonObject { ["text"] = $"{Title}<br><sup>{p}</sup>" };
        return Script(layout.ToJsonString(Options));
    }

    // Text stays readable in the saved HTML (·, ≤, ×); "</" is the one sequence that could end the <script> early.
    static string Script(string json) => json.Replace("</", "<\\/");

    static readonly JsonSerializerOptions Options = new()
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public override string ToString() => $"Figure \"{Title}\" ({Data.Count} traces)";
}
