using StagNotebooks.Training;
using StagNotebooks.Workbench;
using StagNotebooks.Experiments;

namespace StagNotebooks.Tests.Training;

public class RunReuseTests
{
    [Fact]
    public void The_same_experiment_under_another_label_is_reused_not_trained_again()
    {
        using var tmp = new TestPaths.TempDir();
        var data = ExperimentRuns.Data();
        // baseline-2h at h is baseline-h at 2h: one config, two labels.
        var twoH = ExperimentRuns.Config("smoke", "baseline-2h", data, seed: 3);
        var hOfDeeper = ExperimentRuns.Config("smoke", "baseline-h", data, seed: 3, overrides: new[] { $"Model.LayersPerStack={twoH.Model.LayersPerStack}" });
        Assert.Equal(twoH.ToJson(), hOfDeeper.ToJson());
        var first = ExperimentRuns.Train(twoH, "baseline-2h", data, tmp.Path);
        var second = ExperimentRuns.Train(hOfDeeper, "baseline-h", data, tmp.Path);
        Assert.False(first.Reused);
        Assert.True(second.Reused);
        Assert.Equal(first.Run.Path, second.Run.Path);
        Assert.Equal(first.BestValLoss, second.BestValLoss);
        Assert.Single(Directory.GetDirectories(tmp.Path));

        // An unfinished run under another label is not taken over: the new label gets its own folder.
        var other = ExperimentRuns.Config("smoke", "baseline-h", data, seed: 4);
        var name = RunDirectory.DefaultName(other, "baseline-h", data.Id);
        RunDirectory.Open(tmp.Path, "elsewhere-" + name.Split('-')[^1], other, data.Id);   // started, never finished
        Assert.Null(RunDirectory.FindComplete(tmp.Path, other, data.Id));
    }

    [Fact]
    public void A_finished_run_under_another_presets_name_is_found_when_nothing_else_differs()
    {
        using var dir = new TestPaths.TempDir();
        var config = Presets.ConfigFor("smoke", "separate-2xh", 4096, seed: 2);
        var run = RunDirectory.Open(dir.Path, RunDirectory.DefaultName(config, "separate-2xh", "data-a"), config, "data-a");
        Assert.Null(RunDirectory.FindComplete(dir.Path, config with { Preset = "smoke-renamed" }, "data-a"));   // not finished yet
        File.WriteAllText(Path.Combine(run.Path, "done.json"), "{}");

        var found = RunDirectory.FindComplete(dir.Path, config with { Preset = "smoke-renamed" }, "data-a");
        Assert.NotNull(found);
        Assert.Equal(run.Path, found!.Path);
        Assert.Equal((run.Id, "smoke"), (found.Id, found.Config.Preset));                                         // the run as it was trained
        Assert.Null(RunDirectory.FindComplete(dir.Path, config with { Preset = "smoke-renamed" }, "data-b"));     // other data
        Assert.Null(RunDirectory.FindComplete(dir.Path, config with { Preset = "smoke-renamed", LearningRate = 1e-3 }, "data-a"));   // another number
        Assert.Null(RunDirectory.FindComplete(dir.Path, config with { Preset = "smoke-renamed", Seed = 3 }, "data-a"));
    }

    [Fact]
    public void A_second_process_asking_for_a_run_being_trained_waits_for_it_then_reuses_it()
    {
        using var tmp = new TestPaths.TempDir();
        var data = ExperimentRuns.Data();
        var config = ExperimentRuns.Config("smoke", "baseline-h", data, seed: 5);
        var run = RunDirectory.Open(tmp.Path, RunDirectory.DefaultName(config, "baseline-h", data.Id), config, data.Id);
        var held = run.Lock();   // the "other process": an exclusive OS handle, as a second process would meet it
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var waiting = Task.Run(() => ExperimentRuns.Train(config, "baseline-h", data, tmp.Path, log: log.Enqueue));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (log.IsEmpty && DateTime.UtcNow < deadline) Thread.Sleep(20);
        Assert.Equal($"{run.Path}: another process is training this run; waiting for it to finish or stop", Assert.Single(log));
        Assert.False(waiting.IsCompleted);
        Assert.False(File.Exists(Path.Combine(run.Path, "metrics.csv")));   // nothing written while the other holds it
        // The other finishes this run (here: trains it under the same handle's protection) and lets go.
        held.Dispose();
        var first = waiting.Result;
        Assert.False(first.Reused);
        Assert.True(run.IsComplete);
        // Held again while already complete: a third caller reuses it without waiting.
        using (run.Lock())
            Assert.True(ExperimentRuns.Train(config, "baseline-h", data, tmp.Path).Reused);
    }
}
