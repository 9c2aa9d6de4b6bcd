using StagNotebooks.Data;
using StagNotebooks.Model;
using StagNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Training;

/// <summary>
/// A learnable synthetic language: each window counts up by a per-window stride, so the next token is predictable
/// from the previous two. Batch i is a pure function of i, as <see cref="IBatchSource"/> requires.
/// </summary>
sealed class CountingBatches(int vocab) : IBatchSource, IEvalSource
{
    public (Tensor Inputs, Tensor Targets) Batch(long index, int batchSize, int contextLength, Device device)
    {
        var rng = new Random((int)(index * 7919 + 13));
        var data = new long[batchSize * (contextLength + 1)];
        for (int b = 0; b < batchSize; b++)
        {
            long start = rng.Next(vocab), stride = 1 + rng.Next(3);
            for (int t = 0; t <= contextLength; t++) data[b * (contextLength + 1) + t] = (start + stride * t) % vocab;
        }
        using var all = torch.tensor(data, new long[] { batchSize, contextLength + 1 }, device: device);
        return (all.narrow(1, 0, contextLength).clone(), all.narrow(1, 1, contextLength).clone());
    }

    public IEnumerable<(Tensor Inputs, Tensor Targets)> Windows(int batchSize, int contextLength, int maxBatches, Device device)
    {
        for (int i = 0; i < maxBatches; i++) yield return Batch(1_000_000 + i, batchSize, contextLength, device);
    }

    public double BytesPerToken => 3.5;
}

[Collection("CheckpointHooks")]
public class TrainerTests
{
    internal static TrainConfig Smoke(int steps = 40) => Presets.Config("smoke") with
    {
        Model = Presets.Config("smoke").Model with { VocabSize = 31 }, MaxSteps = steps, CheckpointEvery = 10, EvalEvery = 10,
    };

    internal static TrainResult Train(string runs, TrainConfig c, string name, Action<TrainProgress, Trainer>? onStep = null, CancellationToken cancel = default)
    {
        var run = RunDirectory.Open(runs, name, c, "counting-31");
        using var trainer = new Trainer(run, new CountingBatches(31), new CountingBatches(31), torch.CPU);
        return trainer.Run(p => onStep?.Invoke(p, trainer), cancel);
    }

    [Fact]
    public void Loss_falls_on_smoke()
    {
        using var dir = new TestPaths.TempDir();
        var r = Train(dir.Path, Smoke(), "falls");
        Assert.Equal(40, r.Steps);
        double first = r.Metrics[0].Loss, last = r.Metrics.TakeLast(5).Average(m => m.Loss);
        Assert.True(last < first - 1.0, $"loss went from {first:F3} to {last:F3}");
        Assert.True(File.Exists(Path.Combine(r.Run.Path, "done.json")));
        Assert.NotNull(r.BestValLoss);
        Assert.Equal(41, File.ReadAllLines(Path.Combine(r.Run.Path, "metrics.csv")).Length);
    }

    [Fact]
    public void An_interrupted_then_resumed_run_gives_exactly_the_uninterrupted_losses()
    {
        using var dir = new TestPaths.TempDir();
        var straight = Train(dir.Path, Smoke(), "straight");

        using var cts = new CancellationTokenSource();
        var first = Train(dir.Path, Smoke(), "interrupted", (p, _) => { if (p.Step == 25) cts.Cancel(); }, cts.Token);
        Assert.Equal(25, first.Steps);                 // stopped after step 25; the last checkpoint is at 20
        var resumed = Train(dir.Path, Smoke(), "interrupted");
        Assert.True(resumed.Resumed);
        Assert.Equal(straight.Metrics.Select(m => m.Loss), resumed.Metrics.Select(m => m.Loss));
        Assert.Equal(straight.Metrics.Select(m => m.ValLoss), resumed.Metrics.Select(m => m.ValLoss));
    }

    [Fact]
    public void The_NaN_guard_names_the_step_and_keeps_the_last_good_checkpoint()
    {
        using var dir = new TestPaths.TempDir();
        var e = Assert.Throws<TrainingDivergedException>(() => Train(dir.Path, Smoke(), "nan", (p, t) =>
        {
            if (p.Step == 12) using (torch.no_grad()) t.Model.final_norm.weight.fill_(float.NaN);
        }));
        var run = RunDirectory.Open(dir.Path, "nan", Smoke(), "counting-31");
        Assert.Equal($"step 12: loss is NaN; the last good checkpoint is {Path.Combine(run.Checkpoints, "step-00000010")}", e.Message);
        Assert.Equal(10, MetricsLog.ReadFrom(run.Path).Where(m => m.ValLoss != null).Max(m => m.Step));
        using var probe = new Trainer(run, new CountingBatches(31), null, torch.CPU);
        Assert.Equal(10, TrainingCheckpoint.Load(run.LastCheckpoint, probe.Model, probe.Optimizer).Step);
    }

    [Fact]
    public void Overrides_change_one_field_and_name_unknown_ones()
    {
        var c = Presets.Config("cpu-small").WithOverrides(new[] { "LearningRate=1e-3", "Model.CrossWindow=8", "Model.Weights=Shared" });
        Assert.Equal(1e-3, c.LearningRate);
        Assert.Equal(8, c.Model.CrossWindow);
        Assert.Equal(WeightSharing.Shared, c.Model.Weights);
        var e = Assert.Throws<ConfigException>(() => c.WithOverrides(new[] { "Model.Depth=3" }));
        Assert.StartsWith("config field Model.Depth: no such field; known: VocabSize, DModel,", e.Message);
        var bad = Assert.Throws<ConfigException>(() => c.WithOverrides(new[] { "ContextLength=4096" }));
        Assert.Equal("config field ContextLength: 4096 exceeds Model.MaxContext 128", bad.Message);
    }

    [Fact]
    public void Learning_rate_warms_up_then_decays_to_the_minimum()
    {
        var c = Smoke(100) with { WarmupSteps = 10, LearningRate = 1e-2, MinLearningRate = 1e-3 };
        Assert.Equal(1e-3, LearningRateSchedule.At(c, 0), 12);
        Assert.Equal(1e-2, LearningRateSchedule.At(c, 9), 12);
        Assert.Equal(1e-3, LearningRateSchedule.At(c, 100), 12);
        var wsd = c with { Schedule = LrSchedule.WarmupStableDecay, DecayFraction = 0.2 };
        Assert.Equal(1e-2, LearningRateSchedule.At(wsd, 79), 12);
        Assert.True(LearningRateSchedule.At(wsd, 90) < 1e-2);
    }
}
