using System.Globalization;
using Microsoft.Data.Analysis;
using Microsoft.DotNet.Interactive.Formatting;
using StagNotebooks.IO;

namespace StagNotebooks.Reporting;

/// <summary>
/// How the workbench's values look in a notebook, registered with the kernel's own formatter
/// (Microsoft.DotNet.Interactive.Formatting): a figure as the display bundle of <see cref="FigureBundle"/> (a PNG, the
/// interactive Plotly data, a text line; no plotly.js), DataFrames as HTML tables with rounded numbers plus an aligned
/// text table for text/plain. notebooks/setup.csx calls <see cref="Register"/>; any other value keeps the kernel's
/// default look.
/// </summary>
public static class NotebookFormatting
{
    static readonly object Gate = new();
    static bool _registered;

    public static int MaxTableRows { get; set; } = 25;

    /// <summary>
    /// Registers the formatters (once per process) and decides, at every call (setup.csx calls it at the top of each
    /// notebook), whether figures carry a PNG: only when Chromium is installed and PNGs are on
    /// (<see cref="FigureWriter.RenderPngs"/>); otherwise the bundle holds the short HTML note instead. The mime types a
    /// value carries are a per-type setting of the kernel, so the choice is made here rather than per figure.
    /// </summary>
    public static void Register()
    {
        Formatter.SetPreferredMimeTypesFor(typeof(Figure), FigureBundle.MimeTypes(png: FigureWriter.Chromium != null && FigureWriter.RenderPngs));
        lock (Gate)
        {
            if (_registered) return;
            _registered = true;
        }
        Formatter.Register<Figure>((figure, writer) => writer.Write(FigureBundle.Png(figure)), FigureBundle.PngMime);
        Formatter.Register<Figure>((figure, writer) => writer.Write(FigureBundle.PlotlyJson(figure)), FigureBundle.PlotlyMime);
        Formatter.Register<Figure>((figure, writer) => writer.Write(FigureBundle.FallbackHtml(figure)), HtmlFormatter.MimeType);
        Formatter.Register<Figure>((figure, writer) => writer.Write(FigureBundle.PlainText(figure)), PlainTextFormatter.MimeType);
        Formatter.Register<DataFrame>((df, writer) => writer.Write(TableHtml(df)), HtmlFormatter.MimeType);
        Formatter.Register<DataFrame>((df, writer) => writer.Write(TableText(df)), PlainTextFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(DataFrame), HtmlFormatter.MimeType, PlainTextFormatter.MimeType);
    }

    /// <summary>A table cell as shown (<see cref="NumberText.Cell(object?, string)"/>: the same text as the Markdown files).</summary>
    public static string Cell(object? value, string column = "") => NumberText.Cell(value, column);

    public static string TableHtml(DataFrame df)
    {
        static string E(string s) => System.Net.WebUtility.HtmlEncode(s);
        var sb = new System.Text.StringBuilder("<table><thead><tr>");
        foreach (var c in df.Columns) sb.Append("<th>").Append(E(c.Name)).Append("</th>");
        sb.Append("</tr></thead><tbody>");
        long rows = Math.Min(df.Rows.Count, MaxTableRows);
        for (long r = 0; r < rows; r++)
        {
            sb.Append("<tr>");
            foreach (var c in df.Columns) sb.Append(c[r] is double or float ? "<td style=\"text-align:right\">" : "<td>").Append(E(Cell(c[r], c.Name))).Append("</td>");
            sb.Append("</tr>");
        }
        sb.Append("</tbody></table>");
        if (df.Rows.Count > rows) sb.Append($"<p>… {df.Rows.Count - rows} more rows</p>");
        return sb.ToString();
    }

    /// <summary>The table as aligned text columns (DataFrame's own ToString runs wide columns together).</summary>
    public static string TableText(DataFrame df)
    {
        long rows = Math.Min(df.Rows.Count, MaxTableRows);
        var cols = df.Columns.Select(c => new[] { c.Name }.Concat(Enumerable.Range(0, (int)rows).Select(r => Cell(c[r], c.Name))).ToArray()).ToArray();
        var widths = cols.Select(c => c.Max(s => s.Length)).ToArray();
        var sb = new System.Text.StringBuilder();
        for (int r = 0; r <= rows; r++)
            sb.AppendLine(string.Join("  ", cols.Select((c, i) => c[r].PadRight(widths[i]))).TrimEnd());
        if (df.Rows.Count > rows) sb.AppendLine($"… {df.Rows.Count - rows} more rows");
        return sb.ToString();
    }
}
