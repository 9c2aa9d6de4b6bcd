using StagNotebooks.Data;
using StagNotebooks.Notebooks;
using StagNotebooks.Reporting;

namespace StagNotebooks.Tests.Notebooks;

[Collection("notebooks")]
public class NotebookSeriesTests
{
    /// <summary>Every notebook of the series executes at `smoke`, writes its figures, and yields a valid executed notebook.</summary>
    [Fact]
    public void Every_notebook_runs_at_smoke_and_writes_its_figures()
    {
        using var dir = new TestPaths.TempDir();
        Reporting.FigureWriter.RenderPngs = false;   // HTML figures are enough here; Chromium screenshots take seconds each
        var parameters = new Dictionary<string, string>
        {
            ["Preset"] = "smoke", ["RunsRoot"] = dir.File("runs"), ["FiguresRoot"] = dir.File("figures"),
            ["MaxDocs"] = "2", ["MaxExamples"] = "8", ["Sequences"] = "2", ["Prompts"] = "1",
            ["Shape"] = "tiny-baseline", ["Steps"] = "8", ["StudySteps"] = "3", ["Batches"] = "1,2", ["Contexts"] = "8",
            ["SynthPreset"] = "synth-smoke", ["SynthSeeds"] = "1", ["Tasks"] = "induction,pointer-2",
        };
        var notebooks = NotebookSeries.Notebooks(TestPaths.Repo("notebooks"));
        Assert.Equal(new[] { "00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11" }, notebooks.Select(n => Path.GetFileName(n)[..2]));
        var plan = SeriesPlan.Of(notebooks, parameters, "cpu");   // what stag reproduce prints first
        var runs = NotebookSeries.Run(TestPaths.Repo("notebooks"), parameters, dir.File("executed"));
        // The plan read from the notebooks' source is the training the series did: every planned run finished, none unplanned.
        Assert.Equal(plan.Runs.Count, plan.Progress().Done);
        Assert.Equal(plan.Runs.Count, Directory.GetDirectories(dir.File("runs")).Count(d => Path.GetFileName(d).StartsWith("smoke-", StringComparison.Ordinal)));
        foreach (var run in runs) NotebookValidity.AssertValid(run.Output);
        Assert.Equal(notebooks.Count, runs.Count);
        foreach (var name in new[] { "01-data/corpus.csv", "02-architecture/mask-staggered.html", "03-training/smoke/validation-loss.html", "03-training/smoke/verdicts.md", "03-training/smoke/cross-diagnostics.md", "03-training/smoke/cross-constant-share.html",
                                     "04-quality/smoke/tasks.md", "05-window/smoke/window-quality.csv", "05-window/smoke/verdicts.md", "06-decode-latency/tiny-baseline/table2.csv",
                                     "06-decode-latency/tiny-baseline/compared-with-paper.csv", "06-decode-latency/tiny-baseline/timeline-medians.csv", "06-decode-latency/tiny-baseline/gpu-prediction.csv",
                                     "07-recurrent/smoke/free-running.md", "07-recurrent/smoke/verdicts.md", "08-more-stacks/smoke/stacks-loss.html", "08-more-stacks/smoke/verdicts.md", "09-probing/smoke/cka.html", "09-probing/smoke/cross-ablation.csv",
                                     "10-beyond/smoke/summary.md", "10-beyond/smoke/equal-memory-throughput.csv", "10-beyond/smoke/verdicts.md",
                                     "11-synthetic/synth-smoke/matrix.md", "11-synthetic/synth-smoke/verdicts.md", "11-synthetic/synth-smoke/accuracy.html" })
            Assert.True(File.Exists(dir.File(Path.Combine("figures", name))), $"missing figure {name}");
        Assert.Contains("plotly.js v2", File.ReadAllText(dir.File("figures/03-training/smoke/validation-loss.html")));
        Assert.Contains("preset smoke · 1 seed · commit ", File.ReadAllText(dir.File("figures/03-training/smoke/validation-loss.html")));
        // Every executed notebook could be committed: stamped, figures as Plotly data without plotly.js, under 1.5 MB.
        foreach (var run in runs)
        {
            var check = CommittedNotebook.Check(run.Output);
            Assert.True(check.Passes, string.Join("\n", check.Problems));
        }
        Assert.Contains("\"application/vnd.plotly.v1+json\": {", File.ReadAllText(runs[3].Output));   // written unescaped, as an object
        Assert.True(Directory.GetDirectories(dir.File("runs")).Length >= 8, "the series trains its models into RunsRoot");
        // Each notebook's set-up said where it writes; 11-synthetic, with presets of its own, wrote elsewhere.
        var receipts = notebooks.Select(n => NotebookSeries.ReceiptOf(dir.File("executed"), n)).ToList();
        Assert.All(receipts, r => Assert.NotNull(r));
        Assert.Equal(dir.File("figures/03-training/smoke"), receipts[3]!.Figures);
        var leafOf = Workbench.NotebookReceipt.LeafOverrides(receipts, "smoke");
        Assert.Equal(new Dictionary<string, string> { ["06-decode-latency"] = "tiny-baseline", ["11-synthetic"] = "synth-smoke" }, leafOf);
        // The roll-up `stag reproduce` writes: every notebook's verdicts, 11-synthetic's from its own preset's folder.
        var claims = Reporting.ClaimsTable.Write(dir.File("figures"), "smoke", 1, leafOf);
        Assert.Equal(new[] { "03-training", "05-window", "07-recurrent", "08-more-stacks", "10-beyond", "11-synthetic" }, claims.Notebooks);
        Assert.True(File.Exists(dir.File("figures/claims/smoke.md")));
        Assert.Equal(claims.Table.Rows.Count, claims.Counts.Values.Sum());
    }
}
