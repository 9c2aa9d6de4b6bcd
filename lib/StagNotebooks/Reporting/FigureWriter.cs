using System.Diagnostics;
using Microsoft.Data.Analysis;
using StagNotebooks.IO;

namespace StagNotebooks.Reporting;

/// <summary>
/// Writes what the notebooks show into figures/: charts as standalone HTML with plotly.js embedded (works
/// offline) plus PNG when a headless Chromium is installed, and tables as CSV and Markdown.
/// </summary>
public static class FigureWriter
{
    /// <summary>plotly.js, as embedded in the Plotly.NET package (read as a resource: no F# code runs).</summary>
    public static string PlotlyJs => _plotlyJs.Value;
    static readonly Lazy<string> _plotlyJs = new(() =>
    {
        var asm = typeof(Plotly.NET.GenericChart).Assembly;
        var name = asm.GetManifestResourceNames().First(n => n.EndsWith(".min.js", StringComparison.Ordinal));
        using var s = asm.GetManifestResourceStream(name)!;
        return new StreamReader(s).ReadToEnd();
    });

    /// <summary>
    /// plotly.js as a script that always defines the global <c>Plotly</c>: with RequireJS on the page (classic Jupyter)
    /// plotly.js would register an AMD module instead, so <c>define</c> is hidden while it loads.
    /// </summary>
    public static string PlotlyScript() =>
        $"<script type=\"text/javascript\">(function(){{var d=window.define;window.define=undefined;\n{PlotlyJs}\n;window.define=d;}})();</script>";

    /// <summary>
    /// The figure as HTML. Standalone: a whole page with plotly.js inside, no margins, sized to the figure (for
    /// files and PNGs). Otherwise the figure's div and script, with plotly.js prepended when
    /// <paramref name="includePlotlyJs"/> (a page that loads plotly.js once). Notebook outputs use neither: a figure
    /// shows there as <see cref="FigureBundle"/> (PNG + Plotly data), with no plotly.js.
    /// </summary>
    public static string FigureHtml(Figure figure, bool standalone, bool includePlotlyJs = true, bool staticPlot = false)
    {
        var id = "stag-" + Guid.NewGuid().ToString("N")[..12];
        var config = staticPlot ? "{staticPlot:true,displayModeBar:false}" : "{displaylogo:false,responsive:false}";
        var div = $"<div id=\"{id}\" style=\"width:{figure.Width}px;height:{figure.Height}px;\"></div>\n" +
                  $"<script type=\"text/javascript\">Plotly.newPlot('{id}', {figure.DataJson()}, {figure.LayoutJson()}, {config});</script>";
        if (!standalone) return includePlotlyJs ? PlotlyScript() + "\n" + div : div;
        var title = System.Net.WebUtility.HtmlEncode(figure.Title);
        return $"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>" +
               "<style>html,body{margin:0;padding:0;overflow:hidden;background:#fff;}</style></head>\n<body>\n" +
               PlotlyScript() + "\n" + div + "\n</body></html>\n";
    }

    /// <summary>
    /// Writes &lt;name&gt;.html (and &lt;name&gt;.png with Chromium) into <paramref name="folder"/>; returns the paths written.
    /// With <paramref name="provenance"/>, the chart's title gets a subtitle naming preset, seeds and commit, and a
    /// sidecar &lt;name&gt;.meta.json is written beside it.
    /// </summary>
    public static IReadOnlyList<string> SaveChart(Figure figure, string folder, string name, Provenance? provenance = null)
    {
        Directory.CreateDirectory(folder);
        if (provenance != null) figure.Provenance = provenance.Line;
        var html = Path.Combine(folder, name + ".html");
        AtomicFile.WriteAllText(html, FigureHtml(figure, standalone: true));
        figure.SavedHtml = html;
        var written = new List<string> { html };
        if (RenderPng(figure) is byte[] png)
        {
            var pngPath = Path.Combine(folder, name + ".png");
            AtomicFile.Write(pngPath, tmp => File.WriteAllBytes(tmp, png));
            written.Add(pngPath);
        }
        return WithSidecar(folder, name, provenance, written);
    }

    /// <summary>
    /// Writes &lt;name&gt;.csv and &lt;name&gt;.md; returns the paths written. With <paramref name="provenance"/>, the Markdown
    /// ends with a line naming preset, seeds and commit, and a sidecar &lt;name&gt;.meta.json is written (CSV stays plain).
    /// </summary>
    public static IReadOnlyList<string> SaveTable(DataFrame table, string folder, string name, Provenance? provenance = null)
    {
        Directory.CreateDirectory(folder);
        string csv = Path.Combine(folder, name + ".csv"), md = Path.Combine(folder, name + ".md");
        AtomicFile.Write(csv, tmp => DataFrame.SaveCsv(table, tmp, encoding: new System.Text.UTF8Encoding(false), cultureInfo: System.Globalization.CultureInfo.InvariantCulture));
        AtomicFile.WriteAllText(md, Markdown(table) + (provenance is null ? "" : $"\n_{provenance.Line}_\n"));
        return WithSidecar(folder, name, provenance, new List<string> { csv, md });
    }

    static IReadOnlyList<string> WithSidecar(string folder, string name, Provenance? provenance, List<string> written)
    {
        if (provenance is null) return written;
        var meta = Path.Combine(folder, name + ".meta.json");
        AtomicFile.WriteAllText(meta, provenance.ToJson(name, written.Select(Path.GetFileName).OfType<string>()));
        written.Add(meta);
        return written;
    }


    public static string Markdown(DataFrame table)
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine("| " + string.Join(" | ", table.Columns.Select(c => c.Name)) + " |");
        sb.AppendLine("|" + string.Concat(table.Columns.Select(_ => "---|")));
        for (long r = 0; r < table.Rows.Count; r++)
            sb.AppendLine("| " + string.Join(" | ", table.Columns.Select(c => NumberText.Cell(c[r], c.Name).Replace("|", "\\|"))) + " |");
        return sb.ToString();
    }

    /// <summary>Render PNGs when Chromium exists (on by default; the test suite turns it off to stay fast).</summary>
    public static bool RenderPngs { get; set; } = Environment.GetEnvironmentVariable("STAG_NO_PNG") is null or "" or "0";

    /// <summary>The path of a headless-capable Chromium, or null.</summary>
    public static string? Chromium => _chromium.Value;
    static readonly Lazy<string?> _chromium = new(() =>
        new[] { "chromium", "chromium-browser", "google-chrome" }
            .SelectMany(n => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Select(d => Path.Combine(d, n)))
            .FirstOrDefault(File.Exists));

    /// <summary>A PNG screenshot of the chart by headless Chromium (offline flags: no network, no first-run, a fresh profile), or null without one.</summary>
    public static byte[]? RenderPng(Figure figure)
    {
        if (Chromium is null || !RenderPngs) return null;
        lock (Rendered) if (Rendered.TryGetValue(figure, out var done)) return done;   // a figure saved and displayed renders once
        var png = Render(figure);
        if (png != null) lock (Rendered) Rendered.AddOrUpdate(figure, png);
        return png;
    }

    static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Figure, byte[]> Rendered = new();

    // The page is exactly the figure's size, static (no modebar), with no margins: the screenshot is the chart alone.
    static byte[]? Render(Figure figure)
    {
        var dir = Path.Combine(Path.GetTempPath(), "stag-png-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            var html = Path.Combine(dir, "chart.html");
            File.WriteAllText(html, FigureHtml(figure, standalone: true, staticPlot: true));
            var png = Path.Combine(dir, "chart.png");
            var psi = new ProcessStartInfo(Chromium) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                                      "--disable-component-update", "--disable-sync", $"--user-data-dir={Path.Combine(dir, "profile")}",
                                      $"--screenshot={png}", $"--window-size={figure.Width},{figure.Height}", "--hide-scrollbars", "--virtual-time-budget=1000", "file://" + html })
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            p.StandardOutput.ReadToEndAsync(); p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(60_000)) { p.Kill(true); return null; }
            return File.Exists(png) ? File.ReadAllBytes(png) : null;
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
    }
}
