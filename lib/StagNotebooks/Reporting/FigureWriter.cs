using System.Diagnostics;
using Microsoft.Data.Analysis;
using Plotly.NET;

namespace StagNotebooks.Reporting;

/// <summary>
/// Writes what the notebooks show into figures/: charts as standalone HTML with plotly.js embedded (works
/// offline) plus PNG when a headless Chromium is installed, and tables as CSV and Markdown.
/// </summary>
public static class FigureWriter
{
    static readonly Lazy<string> PlotlyJs = new(() =>
    {
        var asm = typeof(GenericChart).Assembly;
        var name = asm.GetManifestResourceNames().First(n => n.EndsWith(".min.js", StringComparison.Ordinal));
        using var s = asm.GetManifestResourceStream(name)!;
        return new StreamReader(s).ReadToEnd();
    });

    /// <summary>
    /// The chart as HTML. Standalone: a whole page with plotly.js inside. Otherwise the chart's div and script, with
    /// plotly.js prepended when <paramref name="includePlotlyJs"/> (once per notebook is enough: later charts reuse it).
    /// </summary>
    public static string ChartHtml(GenericChart chart, bool standalone, bool includePlotlyJs = true)
    {
        if (standalone)
        {
            var opts = DisplayOptions.setPlotlyReference(PlotlyJSReference.Full).Invoke(Defaults.DefaultDisplayOptions);
            return GenericChart.toEmbeddedHTML(Chart.withDisplayOptions(opts).Invoke(chart));
        }
        var div = GenericChart.toChartHTML(chart);
        return includePlotlyJs ? $"<script type=\"text/javascript\">{PlotlyJs.Value}</script>\n{div}" : div;
    }

    /// <summary>
    /// Writes &lt;name&gt;.html (and &lt;name&gt;.png with Chromium) into <paramref name="folder"/>; returns the paths written.
    /// With <paramref name="provenance"/>, the chart's title gets a subtitle naming preset, seeds and commit, and a
    /// sidecar &lt;name&gt;.meta.json is written beside it.
    /// </summary>
    public static IReadOnlyList<string> SaveChart(GenericChart chart, string folder, string name, Provenance? provenance = null)
    {
        Directory.CreateDirectory(folder);
        if (provenance != null) chart = Stamp(chart, provenance);
        var html = Path.Combine(folder, name + ".html");
        AtomicFile.WriteAllText(html, ChartHtml(chart, standalone: true));
        var written = new List<string> { html };
        if (RenderPng(chart) is byte[] png)
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
        AtomicFile.Write(csv, tmp => DataFrame.SaveCsv(table, tmp, cultureInfo: System.Globalization.CultureInfo.InvariantCulture));
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

    /// <summary>The chart with its provenance as a subtitle under the title (idempotent).</summary>
    public static GenericChart Stamp(GenericChart chart, Provenance provenance)
    {
        string title = "";
        var current = GenericChart.getLayout(chart).TryGetPropertyValue("title");
        if (Microsoft.FSharp.Core.FSharpOption<object>.get_IsSome(current))
            title = current.Value switch
            {
                IDictionary<string, object> d when d.TryGetValue("text", out var t) => t?.ToString() ?? "",
                string s => s,
                _ => "",
            };
        if (title.Contains(provenance.Line, StringComparison.Ordinal)) return chart;
        var stamp = new Layout();
        stamp.SetProperty("title", new Dictionary<string, object> { ["text"] = (title.Length > 0 ? title + "<br>" : "") + $"<sup>{provenance.Line}</sup>" });
        return GenericChart.addLayout(stamp, chart);
    }

    public static string Markdown(DataFrame table)
    {
        static string F(object? v) => v switch { double d => d.ToString("G5", System.Globalization.CultureInfo.InvariantCulture), float f => f.ToString("G5", System.Globalization.CultureInfo.InvariantCulture), _ => v?.ToString() ?? "" };
        var sb = new System.Text.StringBuilder();
        sb.AppendLine("| " + string.Join(" | ", table.Columns.Select(c => c.Name)) + " |");
        sb.AppendLine("|" + string.Concat(table.Columns.Select(_ => "---|")));
        for (long r = 0; r < table.Rows.Count; r++)
            sb.AppendLine("| " + string.Join(" | ", table.Columns.Select(c => F(c[r]).Replace("|", "\\|"))) + " |");
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

    /// <summary>A PNG screenshot of the chart by headless Chromium (offline flags as ENVIRONMENT.md gives), or null without one.</summary>
    public static byte[]? RenderPng(GenericChart chart, int width = 900, int height = 600)
    {
        if (Chromium is null || !RenderPngs) return null;
        lock (Rendered) if (Rendered.TryGetValue(chart, out var done)) return done;   // a chart saved and displayed renders once
        var png = Render(chart, width, height);
        if (png != null) lock (Rendered) Rendered.AddOrUpdate(chart, png);
        return png;
    }

    static readonly System.Runtime.CompilerServices.ConditionalWeakTable<GenericChart, byte[]> Rendered = new();

    static byte[]? Render(GenericChart chart, int width, int height)
    {
        var dir = Path.Combine(Path.GetTempPath(), "stag-png-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            var html = Path.Combine(dir, "chart.html");
            File.WriteAllText(html, ChartHtml(chart, standalone: true));
            var png = Path.Combine(dir, "chart.png");
            var psi = new ProcessStartInfo(Chromium) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                                      "--disable-component-update", "--disable-sync", $"--user-data-dir={Path.Combine(dir, "profile")}",
                                      $"--screenshot={png}", $"--window-size={width},{height}", "--virtual-time-budget=1000", "file://" + html })
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            p.StandardOutput.ReadToEndAsync(); p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(60_000)) { p.Kill(true); return null; }
            return File.Exists(png) ? File.ReadAllBytes(png) : null;
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
    }
}
