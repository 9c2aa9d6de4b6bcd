using StagNotebooks.Model;
using StagNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Training;

/// <summary>Per-group learning-rate multipliers (cross-attention, embeddings) and the run ids they leave alone.</summary>
public class LearningRateGroupTests
{
    // One AdamW step moves every element by about lr·sign(grad) (m̂/√v̂ = ±1 at step 1), so the median |Δ| of a
    // group is its learning rate: the multiplier is measured, not read back from the optimizer.
    static Dictionary<string, double> MedianStepByGroup(TrainConfig c)
    {
        using var dir = new TestPaths.TempDir();
        var run = RunDirectory.Open(dir.Path, "lr", c, "counting-31");
        using var trainer = new Trainer(run, new CountingBatches(31), null, torch.CPU);
        var before = trainer.Model.named_parameters().ToDictionary(x => x.name, x => x.parameter.detach().clone());
        trainer.Run();
        string Group(string name) => name.Contains(".cross_layers.") ? "cross" : name.StartsWith("tok_embeddings.") ? "embedding" : "other";
        return trainer.Model.named_parameters()
            .Where(x => x.parameter.dim() >= 2 && !x.name.Contains("null_"))   // slots start at 0 or get no gradient on every element
            .GroupBy(x => Group(x.name))
            .ToDictionary(g => g.Key, g => (double)torch.cat(g.Select(x => (x.parameter.detach() - before[x.name]).abs().flatten()).ToArray()).median().item<float>());
    }

    static TrainConfig OneStep(double? cross, double? embedding) => TrainerTests.Smoke(steps: 1) with
    {
        WarmupSteps = 0, WeightDecay = 0, GradClip = 0, LearningRate = 1e-3, MinLearningRate = 1e-3,
        CrossAttentionLrScale = cross, EmbeddingLrScale = embedding,
        Model = TrainerTests.Smoke().Model with { Stacks = 2 },
    };

    [Fact]
    public void Each_group_moves_at_its_own_multiple_of_the_learning_rate()
    {
        var plain = MedianStepByGroup(OneStep(null, null));
        var scaled = MedianStepByGroup(OneStep(0.1, 0.5));
        foreach (var g in plain.Keys) Assert.InRange(plain[g], 0.9e-3, 1.1e-3);
        Assert.InRange(scaled["cross"], 0.9e-4, 1.1e-4);
        Assert.InRange(scaled["embedding"], 0.45e-3, 0.55e-3);
        Assert.InRange(scaled["other"], 0.9e-3, 1.1e-3);
    }

    [Fact]
    public void A_scale_must_be_positive_and_the_error_names_it()
    {
        var e = Assert.Throws<ConfigException>(() => (new TrainConfig() with { CrossAttentionLrScale = 0 }).Validate());
        Assert.Equal("config field CrossAttentionLrScale: must be positive, or null for 1 (got 0)", e.Message);
    }

    [Fact]
    public void Options_that_are_off_by_default_leave_run_ids_unchanged()
    {
        // The id of the default config, fixed: a new field whose default is not its type's (false, 0, null, first enum
        // value) would change every run's id and retrain everything — this test says so before it happens.
        Assert.Equal("7ad9b3864053", RunDirectory.ComputeId(new TrainConfig(), "data"));
        var c = new TrainConfig();
        Assert.Equal(RunDirectory.ComputeId(c, "data"), RunDirectory.ComputeId(c with { Model = c.Model with { CrossGate = CrossGateKind.None }, EmbeddingLrScale = null }, "data"));
        Assert.NotEqual(RunDirectory.ComputeId(c, "data"), RunDirectory.ComputeId(c with { Model = c.Model with { CrossGate = CrossGateKind.PerLayer } }, "data"));
        Assert.NotEqual(RunDirectory.ComputeId(c, "data"), RunDirectory.ComputeId(c with { CrossAttentionLrScale = 0.1 }, "data"));
    }
}
