using System.Text.Json.Nodes;
using Microsoft.Data.Analysis;

namespace StagNotebooks.Notebooks;

/// <summary>Raw HTML to display, as the kernel's <c>HTML("...")</c> returns.</summary>
public sealed record HtmlString(string Html)
{
    public override string ToString() => Html;
}

/// <summary>What <c>display(x)</c> returns: <see cref="Update"/> replaces that output in place, as in the kernel.</summary>
public sealed class DisplayedValue
{
    readonly JsonObject _output;
    internal DisplayedValue(JsonObject output) => _output = output;
    public void Update(object? value) => _output["data"] = OutputFormatter.MimeBundle(value);
}

/// <summary>
/// Turns values into nbformat mime bundles the way the .NET Interactive kernel shows them: text/plain always;
/// text/html for HTML, DataFrames (a table) and Plotly.NET charts (with plotly.js embedded, so the executed
/// notebook works offline); image/png of a chart when a headless Chromium is installed.
/// </summary>
public static class OutputFormatter
{
    public static int MaxTableRows { get; set; } = 25;

    public static JsonObject MimeBundle(object? value)
    {
        var bundle = new JsonObject();
        switch (value)
        {
            case null:
                bundle["text/plain"] = "<null>";
                break;
            case HtmlString h:
                bundle["text/html"] = h.Html;
                bundle["text/plain"] = h.Html;
                break;
            case DataFrame df:
                bundle["text/html"] = DataFrameHtml(df);
                bundle["text/plain"] = df.ToString();
                break;
            case Plotly.NET.GenericChart chart:
                bundle["text/html"] = Reporting.FigureWriter.ChartHtml(chart, standalone: false);
                bundle["text/plain"] = "Plotly.NET chart";
                if (Reporting.FigureWriter.RenderPng(chart) is byte[] png) bundle["image/png"] = Convert.ToBase64String(png);
                break;
            case string s:
                bundle["text/plain"] = s;
                break;
            default:
                bundle["text/plain"] = Plain(value);
                break;
        }
        return bundle;
    }

    static string Plain(object value)
    {
        if (value is System.Collections.IEnumerable e && value is not string)
        {
            var items = e.Cast<object?>().Take(MaxTableRows + 1).ToList();
            var shown = string.Join(", ", items.Take(MaxTableRows).Select(i => i?.ToString() ?? "<null>"));
            return $"[{shown}{(items.Count > MaxTableRows ? ", …" : "")}]";
        }
        return value.ToString() ?? "";
    }

    public static string DataFrameHtml(DataFrame df)
    {
        static string E(object? o) => System.Net.WebUtility.HtmlEncode(o switch { double d => d.ToString("G6"), float f => f.ToString("G6"), _ => o?.ToString() ?? "" });
        var sb = new System.Text.StringBuilder("<table><thead><tr><th><i>index</i></th>");
        foreach (var c in df.Columns) sb.Append("<th>").Append(E(c.Name)).Append("</th>");
        sb.Append("</tr></thead><tbody>");
        long rows = Math.Min(df.Rows.Count, MaxTableRows);
        for (long r = 0; r < rows; r++)
        {
            sb.Append("<tr><td><i>").Append(r).Append("</i></td>");
            foreach (var c in df.Columns) sb.Append("<td>").Append(E(c[r])).Append("</td>");
            sb.Append("</tr>");
        }
        sb.Append("</tbody></table>");
        if (df.Rows.Count > rows) sb.Append($"<p>… {df.Rows.Count - rows} more rows</p>");
        return sb.ToString();
    }
}
