using Plotly.NET;

namespace StagNotebooks.Reporting;

/// <summary>One line of a line chart; <paramref name="ErrorY"/> draws error bars (e.g. the sd over seeds).</summary>
public sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, IReadOnlyList<double>? ErrorY = null, string Mode = "lines");

/// <summary>
/// Plotly.NET charts from C#: traces and layout are Plotly.NET's own objects, set field by field as plotly.js names
/// them (Plotly.NET.CSharp, the C# wrapper, targets net10.0 only, and the F# API's optional arguments are not
/// optional from C#). Every chart has a title, axis titles and a legend.
/// </summary>
public static class Charts
{
    static Dictionary<string, object> Text(string text) => new() { ["text"] = text };

    static GenericChart Finish(IEnumerable<Trace> traces, string title, string xTitle, string yTitle, Action<Layout>? more = null)
    {
        var chart = GenericChart.ofTraceObjects(true, Microsoft.FSharp.Collections.ListModule.OfSeq(traces));
        var layout = new Layout();
        layout.SetProperty("title", Text(title));
        layout.SetProperty("xaxis", new Dictionary<string, object> { ["title"] = Text(xTitle) });
        layout.SetProperty("yaxis", new Dictionary<string, object> { ["title"] = Text(yTitle) });
        layout.SetProperty("showlegend", true);
        layout.SetProperty("width", 900);
        layout.SetProperty("height", 520);
        more?.Invoke(layout);
        return GenericChart.addLayout(layout, chart);
    }

    public static GenericChart Lines(string title, string xTitle, string yTitle, IEnumerable<Series> series, bool logX = false, bool logY = false) =>
        Finish(series.Select(s =>
        {
            var t = new Trace("scatter");
            t.SetProperty("name", s.Name);
            t.SetProperty("x", s.X.ToArray());
            t.SetProperty("y", s.Y.ToArray());
            t.SetProperty("mode", s.Mode);
            if (s.ErrorY is { } e) t.SetProperty("error_y", new Dictionary<string, object> { ["type"] = "data", ["array"] = e.ToArray(), ["visible"] = true });
            return t;
        }), title, xTitle, yTitle, layout =>
        {
            if (logX) layout.SetProperty("xaxis", new Dictionary<string, object> { ["title"] = Text(xTitle), ["type"] = "log" });
            if (logY) layout.SetProperty("yaxis", new Dictionary<string, object> { ["title"] = Text(yTitle), ["type"] = "log" });
        });

    /// <summary>Grouped bars: one bar group per category, one bar per series (values[series][category]).</summary>
    public static GenericChart Bars(string title, string xTitle, string yTitle, IReadOnlyList<string> categories,
                                    IEnumerable<(string Name, IReadOnlyList<double> Values, IReadOnlyList<double>? Errors)> series) =>
        Finish(series.Select(s =>
        {
            var t = new Trace("bar");
            t.SetProperty("name", s.Name);
            t.SetProperty("x", categories.ToArray());
            t.SetProperty("y", s.Values.ToArray());
            if (s.Errors is { } e) t.SetProperty("error_y", new Dictionary<string, object> { ["type"] = "data", ["array"] = e.ToArray(), ["visible"] = true });
            return t;
        }), title, xTitle, yTitle, layout => layout.SetProperty("barmode", "group"));

    /// <summary>A heatmap of z[row][column] with labelled axes (e.g. attention: query rows, key columns).</summary>
    public static GenericChart Heatmap(string title, string xTitle, string yTitle, double[][] z, IReadOnlyList<string> xLabels, IReadOnlyList<string> yLabels, string colorscale = "Viridis")
    {
        var t = new Trace("heatmap");
        t.SetProperty("name", title);
        t.SetProperty("z", z);
        t.SetProperty("x", xLabels.ToArray());
        t.SetProperty("y", yLabels.ToArray());
        t.SetProperty("colorscale", colorscale);
        return Finish(new[] { t }, title, xTitle, yTitle, layout =>
            layout.SetProperty("yaxis", new Dictionary<string, object> { ["title"] = Text(yTitle), ["autorange"] = "reversed" }));
    }
}
