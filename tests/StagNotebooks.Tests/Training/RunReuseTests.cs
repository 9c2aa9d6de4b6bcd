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
}
