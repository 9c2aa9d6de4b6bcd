using StagNotebooks.Benchmarks;
using StagNotebooks.Evaluation.Synthetic;
using TorchSharp;
using StagNotebooks.Reporting;
using StagNotebooks.Experiments;

namespace StagNotebooks.Tests.Synthetic;

public class SyntheticBenchTests
{
    [Fact]
    public void Smoke_trains_scores_and_reuses_a_run_and_recurrent_scoring_is_not_the_two_pass_model()
    {
        using var dir = new TestPaths.TempDir();
        var spec = SyntheticTaskSpec.Parse("compose-1");
        var first = SyntheticBench.Run(spec, "synth-smoke", "shared-2xh", 1, dir.Path, torch.CPU, evalBatches: 2);
        Assert.InRange(first.Accuracy, 0, 1);
        Assert.True(File.Exists(Path.Combine(first.RunPath, "done.json")));
        var again = SyntheticBench.Run(spec, "synth-smoke", "shared-2xh-recurrent", 1, dir.Path, torch.CPU, evalBatches: 2);
        Assert.Equal(first.RunPath, again.RunPath);                       // the recurrent row reuses the trained shared model
        Assert.Equal(SyntheticScoring.Recurrent, again.Scoring);

        using var model = StagNotebooks.Model.Checkpoint.Load(Path.Combine(first.RunPath, "checkpoints", "last"), torch.CPU);
        model.eval();
        var src = new SyntheticBatches(spec.Create(48, 32), 1);
        var (x, _) = src.Batch(SyntheticBatches.EvalOffset, 2, 32, torch.CPU);
        using var ng = torch.no_grad();
        var tf = SyntheticBench.Logits(model, x, SyntheticScoring.TeacherForced);
        var rec = SyntheticBench.Logits(model, x, SyntheticScoring.Recurrent);
        Assert.Equal(tf.shape, rec.shape);
        Assert.True((tf - rec).abs().max().item<float>() > 1e-4, "recurrent decoding reproduced the two-pass logits");
        // Position 0 has no memory in either mode (only the null slot): the logits agree there.
        Assert.True((tf.narrow(1, 0, 1) - rec.narrow(1, 0, 1)).abs().max().item<float>() < 1e-4);

        var table = SyntheticReport.Table(new[] { first, again });
        Assert.Equal(2, table.Rows.Count);
    }
}
