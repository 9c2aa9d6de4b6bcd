using StagNotebooks.Training;
using StagNotebooks.Workbench;

namespace StagNotebooks.Tests.Training;

public class RunReuseTests
{
    [Fact]
    public void The_same_experiment_under_another_label_is_reused_not_trained_again()
    {
        using var tmp = new TestPaths.TempDir();
        var data = Experiments.Data();
        // baseline-2h at h is baseline-h at 2h: one config, two labels.
        var twoH = Experiments.Config("smoke", "baseline-2h", data, seed: 3);
        var hOfDeeper = Experiments.Config("smoke", "baseline-h", data, seed: 3, overrides: new[] { $"Model.LayersPerStack={twoH.Model.LayersPerStack}" });
        Assert.Equal(twoH.ToJson(), hOfDeeper.ToJson());
        var first = Experiments.Train(twoH, "baseline-2h", data, tmp.Path);
        var second = Experiments.Train(hOfDeeper, "baseline-h", data, tmp.Path);
        Assert.False(first.Reused);
        Assert.True(second.Reused);
        Assert.Equal(first.Run.Path, second.Run.Path);
        Assert.Equal(first.BestValLoss, second.BestValLoss);
        Assert.Single(Directory.GetDirectories(tmp.Path));

        // An unfinished run under another label is not taken over: the new label gets its own folder.
        var other = Experiments.Config("smoke", "baseline-h", data, seed: 4);
        var name = RunDirectory.DefaultName(other, "baseline-h", data.Id);
        RunDirectory.Open(tmp.Path, "elsewhere-" + name.Split('-')[^1], other, data.Id);   // started, never finished
        Assert.Null(RunDirectory.FindComplete(tmp.Path, other, data.Id));
    }

    [Fact]
    public void A_second_process_asking_for_a_run_being_trained_waits_for_it_then_reuses_it()
    {
        using var tmp = new TestPaths.TempDir();
        var data = Experiments.Data();
        var config = Experiments.Config("smoke", "baseline-h", data, seed: 5);
        var run = RunDirectory.Open(tmp.Path, RunDirectory.DefaultName(config, "baseline-h", data.Id), config, data.Id);
        var held = run.Lock();   // the "other process": an exclusive OS handle, as a second process would meet it
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var waiting = Task.Run(() => Experiments.Train(config, "baseline-h", data, tmp.Path, log: log.Enqueue));
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
            Assert.True(Experiments.Train(config, "baseline-h", data, tmp.Path).Reused);
    }
}
