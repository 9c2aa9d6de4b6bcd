using System.Text.Json.Nodes;

namespace StagNotebooks.Reporting;

/// <summary>
/// One line of a line chart. <paramref name="ErrorY"/> is its spread (e.g. the sd over seeds): a shaded band around
/// a line, error bars on markers-only series. <paramref name="Dash"/> (plotly's "dash", "dot", …) keeps a line visible
/// where it lies on another; <paramref name="SecondAxis"/> puts it on the right-hand axis (another unit);
/// <paramref name="ErrorBars"/> keeps error bars on a line (a few points, each its own interval, several series on one chart).
/// </summary>
/// <summary>One row of a forest plot: an estimate with its interval (NaN: none), a group that colours it, hover text.</summary>
public sealed record ForestRow(string Label, double Estimate, double Low, double High, string Group, string Hover);

/// <summary>One bar of a timeline: a piece of work of one kind on one lane, from start to end, with hover text.</summary>
public sealed record TimelineBar(string Lane, string Kind, double Start, double End, string Hover);

public sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, IReadOnlyList<double>? ErrorY = null, string Mode = "lines",
                            string? Dash = null, bool SecondAxis = false, bool ErrorBars = false);

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
        // automargin: long or rotated category labels push the axis title out instead of running under it or off the picture
        layout["xaxis"] = new JsonObject { ["title"] = Text(xTitle), ["automargin"] = true };
        layout["yaxis"] = new JsonObject { ["title"] = Text(yTitle), ["automargin"] = true };
        layout["showlegend"] = true;
        layout["width"] = 900;
        layout["height"] = 520;
        more?.Invoke(layout);
        return figure;
    }

    /// <summary>
    /// Lines (x, y) per series. On a log x axis the ticks are the data's own x values (no cluttered minor labels);
    /// <paramref name="y2Title"/> names the right-hand axis of series with <see cref="Series.SecondAxis"/>.
    /// </summary>
    public static Figure Lines(string title, string xTitle, string yTitle, IEnumerable<Series> series, bool logX = false, bool logY = false, string? y2Title = null)
    {
        var list = series.ToList();
        return Finish(list.SelectMany(LineTraces), title, xTitle, yTitle, layout =>
        {
            if (logX)
            {
                var ticks = list.SelectMany(s => s.X).Where(x => x > 0).Distinct().Order().ToList();
                layout["xaxis"]!["type"] = "log";
                if (ticks.Count is > 0 and <= 12) { layout["xaxis"]!["tickvals"] = Array(ticks); layout["xaxis"]!["ticktext"] = Array(ticks.Select(Tick)); }
            }
            if (logY) layout["yaxis"]!["type"] = "log";
            if (list.Any(s => s.SecondAxis))
                layout["yaxis2"] = new JsonObject { ["title"] = Text(y2Title ?? ""), ["overlaying"] = "y", ["side"] = "right", ["automargin"] = true };
            layout["legend"] = new JsonObject { ["orientation"] = "h", ["y"] = -0.2 };   // below the plot: long names do not squeeze it
        });
    }

    // Every digit a tick value has (learning rates such as 0.00075 and 0.0015 must not round to 0.001 and 0.002).
    static string Tick(double x) => x.ToString(x >= 1000 ? "#,0" : "0.#########", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A series' traces: its spread as a band (two bounding traces, the lower one filled up to the upper) under its line.</summary>
    static IEnumerable<JsonObject> LineTraces(Series s, int index)
    {
        var axis = s.SecondAxis ? "y2" : "y";
        var band = s.ErrorY is not null && !s.ErrorBars && s.Mode.Contains("lines", StringComparison.Ordinal);
        if (band)
        {
            var e2 = s.ErrorY!;
            JsonObject Bound(Func<int, double> y, bool fill) => new()
            {
                ["type"] = "scatter", ["x"] = Array(s.X), ["y"] = Array(Enumerable.Range(0, s.Y.Count).Select(y)), ["mode"] = "lines", ["yaxis"] = axis,
                ["line"] = new JsonObject { ["width"] = 0 }, ["showlegend"] = false, ["hoverinfo"] = "skip", ["legendgroup"] = s.Name,
                ["fill"] = fill ? "tonexty" : "none",
            };
            yield return Bound(i => s.Y[i] + e2[i], false);
            var lower = Bound(i => s.Y[i] - e2[i], true);
            lower["fillcolor"] = "rgba(120,120,120,0.18)";
            yield return lower;
        }
        var t = new JsonObject { ["type"] = "scatter", ["name"] = s.Name, ["x"] = Array(s.X), ["y"] = Array(s.Y), ["mode"] = s.Mode, ["yaxis"] = axis, ["legendgroup"] = s.Name };
        if (s.ErrorY is { } err && !band) t["error_y"] = new JsonObject { ["type"] = "data", ["array"] = Array(err), ["visible"] = true };
        if (s.Dash is { } dash) t["line"] = new JsonObject { ["dash"] = dash, ["width"] = 3 };
        yield return t;
    }

    /// <summary>
    /// Grouped bars: one bar group per category, one bar per series (values[series][category]). With
    /// <paramref name="fromZero"/> false the value axis spans the data (and its error bars) with a margin, so
    /// differences of a tenth of a nat on a loss of 4 are visible; the axis title should then say so.
    /// </summary>
    public static Figure Bars(string title, string xTitle, string yTitle, IReadOnlyList<string> categories,
                                    IEnumerable<(string Name, IReadOnlyList<double> Values, IReadOnlyList<double>? Errors)> series, bool fromZero = true)
    {
        var list = series.ToList();
        return Finish(list.Select(s =>
        {
            var t = new JsonObject { ["type"] = "bar", ["name"] = s.Name, ["x"] = Array(categories), ["y"] = Array(s.Values) };
            if (s.Errors is { } e) t["error_y"] = new JsonObject { ["type"] = "data", ["array"] = Array(e), ["visible"] = true };
            return t;
        }), title, xTitle, yTitle, layout =>
        {
            layout["barmode"] = "group";
            var ends = list.SelectMany(s => s.Values.Select((v, i) => (v, e: s.Errors?[i] ?? 0))).Where(p => double.IsFinite(p.v)).ToList();
            if (!fromZero && ends.Count > 0)
            {
                double lo = ends.Min(p => p.v - (double.IsFinite(p.e) ? p.e : 0)), hi = ends.Max(p => p.v + (double.IsFinite(p.e) ? p.e : 0));
                double pad = Math.Max((hi - lo) * 0.15, Math.Abs(hi) * 1e-3);
                layout["yaxis"]!["range"] = Array(new[] { lo - pad, hi + pad });
            }
        });
    }

    /// <summary>
    /// A heatmap of z[row][column] with labelled axes (e.g. attention: query rows, key columns). <paramref name="zMin"/>
    /// and <paramref name="zMax"/> fix the colour scale to the quantity's own range (CKA: 0–1) instead of the data's;
    /// <paramref name="valueFormat"/> (a d3 format such as ".3f") writes each cell's value in it.
    /// </summary>
    public static Figure Heatmap(string title, string xTitle, string yTitle, double[][] z, IReadOnlyList<string> xLabels, IReadOnlyList<string> yLabels,
                                 string colorscale = "Viridis", double? zMin = null, double? zMax = null, string? valueFormat = null)
    {
        var t = new JsonObject
        {
            ["type"] = "heatmap", ["name"] = title, ["z"] = new JsonArray(z.Select(row => (JsonNode?)Array(row)).ToArray()),
            ["x"] = Array(Enumerable.Range(0, xLabels.Count)), ["y"] = Array(Enumerable.Range(0, yLabels.Count)), ["colorscale"] = colorscale,
            ["customdata"] = new JsonArray(yLabels.Select(r => (JsonNode?)Array(xLabels.Select(c => $"{r} → {c}"))).ToArray()),
            ["hovertemplate"] = "%{customdata}: %{z}<extra></extra>",
        };
        if (zMin is { } lo) t["zmin"] = lo;
        if (zMax is { } hi) t["zmax"] = hi;
        if (valueFormat is { } f) t["texttemplate"] = $"%{{z:{f}}}";
        return Finish(new[] { t }, title, xTitle, yTitle, layout => AllLabels(layout, xLabels, yLabels));
    }

    /// <summary>
    /// A yes/no picture (e.g. which keys a query may see: visible[row][column] is 1 or 0): two colours, a legend of
    /// the two meanings instead of a continuous colour bar, thin gaps between cells, every position labelled.
    /// </summary>
    public static Figure Mask(string title, string xTitle, string yTitle, double[][] visible, IReadOnlyList<string> xLabels, IReadOnlyList<string> yLabels,
                              string yes = "visible", string no = "hidden")
    {
        var t = new JsonObject
        {
            ["type"] = "heatmap", ["name"] = title, ["z"] = new JsonArray(visible.Select(row => (JsonNode?)Array(row)).ToArray()),
            ["x"] = Array(Enumerable.Range(0, xLabels.Count)), ["y"] = Array(Enumerable.Range(0, yLabels.Count)), ["zmin"] = 0, ["zmax"] = 1, ["xgap"] = 1, ["ygap"] = 1,
            ["colorscale"] = new JsonArray(new JsonArray(0, "#e8e8e8"), new JsonArray(0.5, "#e8e8e8"), new JsonArray(0.5, "#2b6cb0"), new JsonArray(1, "#2b6cb0")),
            ["colorbar"] = new JsonObject { ["tickvals"] = Array(new[] { 0.25, 0.75 }), ["ticktext"] = Array(new[] { no, yes }), ["len"] = 0.3 },
            ["hovertemplate"] = "query %{y}, key %{x}: %{z}<extra></extra>",
        };
        return Finish(new[] { t }, title, xTitle, yTitle, layout =>
        {
            AllLabels(layout, xLabels, yLabels);
            layout["showlegend"] = false;
            layout["width"] = 620; layout["height"] = 560;
        });
    }

    /// <summary>
    /// A forest plot: each row an estimate with its interval as a horizontal bar, one panel per quantity (stacked, each
    /// with its own x axis, since differences in nats and in accuracy do not share a scale), a line at zero, rows
    /// coloured by group (one legend entry per group), every row labelled.
    /// </summary>
    public static Figure Forest(string title, IReadOnlyList<(string Quantity, IReadOnlyList<ForestRow> Rows)> panels, IReadOnlyDictionary<string, string>? colors = null)
    {
        var traces = new List<JsonObject>();
        var legend = new HashSet<string>();
        for (int k = 0; k < panels.Count; k++)
            foreach (var group in panels[k].Rows.Select((r, i) => (Row: r, Index: i)).GroupBy(x => x.Row.Group))
                traces.Add(ForestTrace(group.ToList(), k, legend.Add(group.Key), colors));
        return Finish(traces, title, "", "", layout => ForestAxes(layout, panels));
    }

    static JsonObject ForestTrace(List<(ForestRow Row, int Index)> rows, int panel, bool inLegend, IReadOnlyDictionary<string, string>? colors)
    {
        static JsonArray Finite(IEnumerable<double> xs) => new(xs.Select(x => double.IsFinite(x) ? JsonValue.Create(x) : null).ToArray<JsonNode?>());
        var group = rows[0].Row.Group;
        var t = new JsonObject
        {
            ["type"] = "scatter", ["mode"] = "markers", ["name"] = group, ["legendgroup"] = group, ["showlegend"] = inLegend,
            ["x"] = Finite(rows.Select(r => r.Row.Estimate)), ["y"] = Array(rows.Select(r => r.Index)),
            ["xaxis"] = panel == 0 ? "x" : $"x{panel + 1}", ["yaxis"] = panel == 0 ? "y" : $"y{panel + 1}",
            ["error_x"] = new JsonObject
            {
                ["type"] = "data", ["symmetric"] = false, ["visible"] = true, ["thickness"] = 2,
                ["array"] = Finite(rows.Select(r => r.Row.High - r.Row.Estimate)), ["arrayminus"] = Finite(rows.Select(r => r.Row.Estimate - r.Row.Low)),
            },
            ["text"] = Array(rows.Select(r => r.Row.Hover)), ["hovertemplate"] = "%{text}<extra></extra>",
            ["marker"] = new JsonObject { ["size"] = 9 },
        };
        if (colors?.GetValueOrDefault(group) is { } c) { t["marker"]!["color"] = c; t["error_x"]!["color"] = c; }
        return t;
    }

    // Panels top-down, each as tall as its rows; its x axis spans its intervals and zero.
    static void ForestAxes(JsonObject layout, IReadOnlyList<(string Quantity, IReadOnlyList<ForestRow> Rows)> panels)
    {
        const double Gap = 0.07;
        double units = panels.Sum(p => p.Rows.Count + 1.0), free = 1 - Gap * Math.Max(0, panels.Count - 1), top = 1;
        for (int k = 0; k < panels.Count; k++)
        {
            var (quantity, rows) = panels[k];
            double height = free * (rows.Count + 1.0) / units;
            var ends = rows.SelectMany(r => new[] { r.Estimate, r.Low, r.High }).Where(double.IsFinite).Append(0).ToList();
            double lo = ends.Min(), hi = ends.Max(), pad = Math.Max((hi - lo) * 0.08, 1e-9);
            string n = k == 0 ? "" : (k + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            layout["xaxis" + n] = new JsonObject
            {
                ["title"] = Text(quantity), ["anchor"] = "y" + n, ["automargin"] = true, ["range"] = Array(new[] { lo - pad, hi + pad }),
                ["zeroline"] = true, ["zerolinewidth"] = 2, ["zerolinecolor"] = "#444",
            };
            layout["yaxis" + n] = new JsonObject
            {
                ["domain"] = Array(new[] { Math.Max(0, top - height), top }), ["anchor"] = "x" + n, ["automargin"] = true, ["autorange"] = "reversed",
                ["tickvals"] = Array(Enumerable.Range(0, rows.Count)), ["ticktext"] = Array(rows.Select(r => r.Label)), ["showgrid"] = false,
            };
            top -= height + Gap;
        }
        layout["height"] = 160 + 24 * panels.Sum(p => p.Rows.Count) + 90 * panels.Count;
        layout["width"] = 1100;
        layout["legend"] = new JsonObject { ["orientation"] = "h", ["y"] = 1.02, ["yanchor"] = "bottom" };
    }

    /// <summary>
    /// A timeline (Gantt chart): a row per lane in the order given, top-down; each piece of work a horizontal bar from its
    /// start to its end, coloured by kind (one legend entry per kind).
    /// </summary>
    public static Figure Timeline(string title, string xTitle, IReadOnlyList<string> lanes, IEnumerable<TimelineBar> bars, IReadOnlyDictionary<string, string>? colors = null)
    {
        var traces = bars.GroupBy(b => b.Kind).Select(g =>
        {
            var t = new JsonObject
            {
                ["type"] = "bar", ["orientation"] = "h", ["name"] = g.Key, ["y"] = Array(g.Select(b => b.Lane)),
                ["x"] = Array(g.Select(b => b.End - b.Start)), ["base"] = Array(g.Select(b => b.Start)),
                ["text"] = Array(g.Select(b => b.Hover)), ["hovertemplate"] = "%{text}<extra></extra>", ["textposition"] = "none",
                ["marker"] = new JsonObject { ["line"] = new JsonObject { ["width"] = 1, ["color"] = "white" } },
            };
            if (colors?.GetValueOrDefault(g.Key) is { } c) t["marker"]!["color"] = c;
            return t;
        }).ToList();
        return Finish(traces, title, xTitle, "", layout =>
        {
            layout["barmode"] = "overlay";
            layout["yaxis"]!["categoryorder"] = "array";
            layout["yaxis"]!["categoryarray"] = Array(lanes);
            layout["yaxis"]!["autorange"] = "reversed";
            layout["height"] = 220 + 55 * lanes.Count;
            layout["width"] = 1100;
            layout["legend"] = new JsonObject { ["orientation"] = "h", ["y"] = -0.25 };
        });
    }

    // Rows top-down like a matrix; every label shown. Cells sit at index positions with the labels as tick text:
    // a category axis would merge two equal labels (the same token twice) into one column.
    static void AllLabels(JsonObject layout, IReadOnlyList<string> xLabels, IReadOnlyList<string> yLabels)
    {
        layout["yaxis"]!["autorange"] = "reversed";
        foreach (var (axis, labels) in new[] { ("xaxis", xLabels), ("yaxis", yLabels) })
        {
            layout[axis]!["tickvals"] = Array(Enumerable.Range(0, labels.Count));
            layout[axis]!["ticktext"] = Array(labels);
            layout[axis]!["showgrid"] = false;
            if (labels.Count > 24) layout[axis]!["tickfont"] = new JsonObject { ["size"] = 9 };
        }
    }
}
