using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using StagNotebooks.IO;

namespace StagNotebooks.Reporting;

/// <summary>
/// Where a figure or table came from: the preset, the number of seeds and the git commit of the code (with
/// "+dirty" when the working tree had uncommitted changes). Charts carry it as a subtitle, Markdown tables as a
/// footer line, and every saved file gets a sidecar &lt;name&gt;.meta.json.
/// </summary>
public sealed record Provenance(string Preset, int Seeds, string Commit, string? Source = null)
{
    public static Provenance Of(string preset, int seeds, string? source = null) => new(preset, seeds, GitCommit.Current, source);

    /// <summary>"preset cpu-small · 3 seeds · commit 1a2b3c4d5e6f" (plus the source, e.g. the notebook); without a preset (a figure no training made) only the commit and source.</summary>
    public string Line => Preset == ""
        ? $"commit {Commit}{(Source is null ? "" : $" · {Source}")}"
        : string.Create(CultureInfo.InvariantCulture, $"preset {Preset} · {Seeds} seed{(Seeds == 1 ? "" : "s")} · commit {Commit}{(Source is null ? "" : $" · {Source}")}");

    public string ToJson(string name, IEnumerable<string> files) => JsonSerializer.Serialize(new
    {
        name, preset = Preset, seeds = Seeds, commit = Commit, source = Source,
        written = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), files,
    }, new JsonSerializerOptions { WriteIndented = true });
}

/// <summary>The commit of the repository the library runs from, read once per process ("unknown" without git).</summary>
public static class GitCommit
{
    static readonly Lazy<string> _current = new(Read);
    public static string Current => _current.Value;

    static string Read()
    {
        string? Git(params string[] args)
        {
            try
            {
                var psi = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = RepoPaths.Root };
                foreach (var a in args) psi.ArgumentList.Add(a);
                using var p = Process.Start(psi);
                if (p is null) return null;
                var outTask = p.StandardOutput.ReadToEndAsync(); _ = p.StandardError.ReadToEndAsync();
                if (!p.WaitForExit(10_000)) { p.Kill(true); return null; }
                return p.ExitCode == 0 ? outTask.Result.Trim() : null;
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or DirectoryNotFoundException) { return null; }
        }
        var head = Git("rev-parse", "--short=12", "HEAD");
        if (string.IsNullOrEmpty(head)) return "unknown";
        var status = Git("status", "--porcelain", "--untracked-files=no");
        return string.IsNullOrEmpty(status) ? head : head + "+dirty";
    }
}

/// <summary>
/// A notebook's figure folder for one preset and seed count — figures/&lt;notebook&gt;/&lt;preset&gt;[-Nseeds]/ — and the
/// provenance every figure saved there carries. One seed is the plain preset name, so the committed default
/// (cpu-small, 1 seed) lives in figures/&lt;notebook&gt;/cpu-small/.
/// </summary>
public sealed record FigureFolder(string Path, Provenance Provenance)
{
    public static FigureFolder For(string root, string notebook, string preset, int seeds) =>
        new(System.IO.Path.Combine(root, notebook, Leaf(preset, seeds)), Provenance.Of(preset, seeds, notebook));

    public static string Leaf(string preset, int seeds)
    {
        if (string.IsNullOrWhiteSpace(preset) || preset.IndexOfAny(System.IO.Path.GetInvalidFileNameChars()) >= 0 || preset.Contains(".."))
            throw new ArgumentException($"preset '{preset}' cannot name a folder");
        if (seeds < 1) throw new ArgumentException($"seeds must be at least 1 (got {seeds})");
        return seeds == 1 ? preset : $"{preset}-{seeds}seeds";
    }

    public override string ToString() => Path;

    /// <summary>The folder itself, where a plain path is wanted (e.g. <c>Directory.CreateDirectory(figures)</c>).</summary>
    public static implicit operator string(FigureFolder folder) => folder.Path;
}
