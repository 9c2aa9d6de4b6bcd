using System.Text.Json.Nodes;

namespace StagNotebooks.Reporting;

/// <summary>One line of a line chart; <paramref name="ErrorY"/> draws error bars (e.g. the sd over seeds).</summary>
public sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, IReadOnlyList<double>? ErrorY = null, string Mode = "lines");

/// <summary>
/// plotly.js figures from C# (see <see cref="Figure"/> for why not Plotly.NET's objects): traces and layout set
/// field by field as plotly.js names them. Every chart has a title, axis titles and a legend.
/// </summary>
public static class Charts
{
    static JsonObject Text(string text) => new() { ["text"] = text };

    static JsonArray Array<T>(IEnumerable<T> xs) => new(xs.Select(x => JsonValue.Create(x)).ToArray<JsonNode?>());

    static Figure Finish(IEnumerable<JsonObject> traces, string title, string xTitle, string yTitle, Action<JsonObject>? more = null)
    {
        var figure = new Figure();
        foreach (var t in traces) figure.Data.Add(t);
        var layout = figure.Layout;
        layout["title"] = Text(title);
        layout["xaxis"] = new JsonObject { ["title"] = Text(xTitle) };
        layout["yaxis"] = new JsonObject { ["title"] = Text(yTitle) };
        layout["showlegend"] = true;
        layout["width"] = 900;
        layout["height"] = 520;
        more?.Invoke(layout);
        return figure;
    }

    public static Figure Lines(string title, string xTitle, string yTitle, IEnumerable<Series> series, bool logX = false, bool logY = false) =>
        Finish(series.Select(s =>
        {
            var t = new JsonObject { ["type"] = "scatter", ["name"] = s.Name, ["x"] = Array(s.X), ["y"] = Array(s.Y), ["mode"] = s.Mode };
            if (s.ErrorY is { } e) t["error_y"] = new JsonObject { ["type"] = "data", ["array"] = Array(e), ["visible"] = true };
            return t;
        }), title, xTitle, yTitle, layout =>
        {
            if (logX) layout["xaxis"]!["type"] = "log";
            if (logY) layout["yaxis"]!["type"] = "log";
        });

    /// <summary>Grouped bars: one bar group per category, one bar per series (values[series][category]).</summary>
    public static Figure Bars(string title, string xTitle, string yTitle, IReadOnlyList<string> categories,
                                    IEnumerable<(string Name, IReadOnlyList<double> Values, IReadOnlyList<double>? Errors)> series) =>
        Finish(series.Select(s =>
        {
            var t = new JsonObject { ["type"] = "bar", ["name"] = s.Name, ["x"] = Array(categories), ["y"] = Array(s.Values) };
            if (s.Errors is { } e) t["error_y"] = new JsonObject { ["type"] = "data", ["array"] = Array(e), ["visible"] = true };
            return t;
        }), title, xTitle, yTitle, layout => layout["barmode"] = "group");

    /// <summary>A heatmap of z[row][column] with labelled axes (e.g. attention: query rows, key columns).</summary>
    public static Figure Heatmap(string title, string xTitle, string yTitle, double[][] z, IReadOnlyList<string> xLabels, IReadOnlyList<string> yLabels, string colorscale = "Viridis")
    {
        var t = new JsonObject
        {
            ["type"] = "heatmap", ["name"] = title, ["z"] = new JsonArray(z.Select(row => (JsonNode?)Array(row)).ToArray()),
            ["x"] = Array(xLabels), ["y"] = Array(yLabels), ["colorscale"] = colorscale,
        };
        return Finish(new[] { t }, title, xTitle, yTitle, layout => layout["yaxis"]!["autorange"] = "reversed");
    }
}
