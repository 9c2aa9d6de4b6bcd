using StagNotebooks.Benchmarks;
using StagNotebooks.Data;
using StagNotebooks.IO;
using StagNotebooks.Model;
using StagNotebooks.Reporting;
using StagNotebooks.Runtime;
using StagNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Workbench;

/// <summary>
/// The calls the notebooks and `stag train` / `stag reproduce` share: the bundled data, a preset turned into a
/// variant, and training that reuses a finished run with the same config and data instead of training twice.
/// </summary>
public static class Experiments
{
    static readonly Dictionary<string, Roofline> _rooflines = new();

    /// <summary>The bundled corpus packed with <paramref name="tokenizer"/> (cached in data/packed).</summary>
    public static PackedDataset Data(string tokenizer = "brown-bpe", Action<string>? log = null) => PackedDataset.PrepareBundled(tokenizer, log);

    /// <summary>The bundled corpus packed with the tokenizer <paramref name="preset"/> trains on (<see cref="Presets.Tokenizer"/>).</summary>
    public static PackedDataset DataFor(string preset, Action<string>? log = null) => Data(Presets.Tokenizer(preset), log);

    /// <summary>A preset with its model turned into <paramref name="variant"/>, the vocabulary of the data, a seed and overrides.</summary>
    public static TrainConfig Config(string preset, string variant, PackedDataset data, long seed = 1, IEnumerable<string>? overrides = null) =>
        Config(preset, variant, data.Manifest.VocabSize, seed, overrides);

    /// <summary>
    /// As above for a vocabulary size: the one place a (preset, variant, seed, overrides) becomes a run's config.
    /// <paramref name="h"/>: the layers per stack the variant is made from (null: the preset's).
    /// </summary>
    public static TrainConfig Config(string preset, string variant, int vocab, long seed = 1, IEnumerable<string>? overrides = null, int? h = null)
    {
        var p = Presets.Config(preset);
        var model = p.Model with { VocabSize = vocab, LayersPerStack = h ?? p.Model.LayersPerStack };
        var c = p with { Model = ModelVariants.Apply(model, variant), Seed = seed };
        var list = overrides?.ToList();
        return (list is { Count: > 0 } ? c.WithOverrides(list) : c).Validate();
    }

    /// <summary>The fp32 GEMM peak of a device at the current thread count, measured once per process for each (MFU's denominator).</summary>
    public static double PeakGflops(Device device) => RooflineOf(device).GemmGflops;

    static string RooflineKey(Device device) => RooflineKey(device.type, device.index, torch.get_num_threads());
    internal static string RooflineKey(DeviceType type, long index, int threads) => $"{type}:{index}|{threads}";

    /// <summary>The roofline of <paramref name="device"/> (cuda:0 and cuda:1, or 1 and 2 CPU threads, are measured separately).</summary>
    public static Roofline RooflineOf(Device device)
    {
        var key = RooflineKey(device);
        lock (_rooflines)
        {
            if (!_rooflines.TryGetValue(key, out var r)) _rooflines[key] = r = Roofline.Measure(device);
            return r;
        }
    }

    /// <summary>
    /// Trains (or resumes, or reuses) the run of <paramref name="config"/> on <paramref name="data"/> in
    /// runs/&lt;preset&gt;-&lt;label&gt;-&lt;id&gt;. A finished run with the same config and data is returned as is, also one
    /// trained under another label.
    /// </summary>
    public static TrainResult Train(TrainConfig config, string label, PackedDataset data, string? runsRoot = null,
                                    Action<TrainProgress>? progress = null, string device = "auto", CancellationToken cancel = default,
                                    Action<string>? log = null)
    {
        var root = runsRoot ?? RepoPaths.Runs;
        var name = RunDirectory.DefaultName(config, label, data.Id);
        // The same experiment finished under another label is the same model: reuse it rather than train it twice.
        var run = RunDirectory.FindComplete(root, config, data.Id) ?? RunDirectory.Open(root, name, config, data.Id);
        if (run.IsComplete) return Reuse(run);
        using var held = run.Lock(log, cancel);   // another process training this run: wait for it
        if (run.IsComplete) return Reuse(run);   // it finished while we waited
        var dev = TorchRuntime.ResolveDevice(device);
        using var train = data.Open("train");
        using var val = data.Open("val");
        using var trainer = new Trainer(run, new RandomWindowBatches(train, config.Seed), new SequentialWindows(val, data.Manifest.Splits["val"].BytesPerToken),
                                        dev, PeakGflops(dev)) { Log = log };
        return trainer.Run(progress, cancel);
    }

    static TrainResult Reuse(RunDirectory run)
    {
        var metrics = MetricsLog.ReadFrom(run.Path);
        return new TrainResult(run, metrics[^1].Step, metrics[^1].Loss, metrics.Where(m => m.ValLoss != null).Select(m => m.ValLoss).Min(), metrics, Resumed: false, Reused: true);
    }

    /// <summary>Trains every (label, variant) for every seed (reusing finished runs) on <paramref name="device"/> (auto, cpu, cuda, cuda:N).</summary>
    public static IReadOnlyList<Trained> TrainAll(string preset, IEnumerable<string> variants, int seeds, PackedDataset data, string? runsRoot = null, Action<string>? log = null,
                                                  string device = "auto") =>
        TrainAll(preset, variants.Select(TrainingArm.Of), seeds, data, runsRoot, log, device);

    /// <summary>Trains every arm (a variant changed by overrides, under its own label) for every seed (reusing finished runs).</summary>
    /// <exception cref="ArgumentException">an unknown or unavailable <paramref name="device"/>, named, before anything is trained or reused</exception>
    /// <param name="firstSeed">the first seed (then firstSeed + 1, …): 1 for the judged series; a sweep uses held-out seeds</param>
    public static IReadOnlyList<Trained> TrainAll(string preset, IEnumerable<TrainingArm> arms, int seeds, PackedDataset data, string? runsRoot = null, Action<string>? log = null,
                                                  string device = "auto", int firstSeed = 1)
    {
        TorchRuntime.ResolveDevice(device);   // a bad device is an error now, also when every run would be reused
        var list = new List<Trained>();
        foreach (var arm in arms)
        {
            var v = arm.Label;
            var runs = new List<TrainResult>();
            for (int s = firstSeed; s < firstSeed + seeds; s++)
            {
                var config = Experiments.Config(preset, arm.Variant, data.Manifest.VocabSize, seed: s, overrides: arm.Overrides, h: arm.H);
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var live = log is null ? null : new LiveProgress(Console.Out);   // a live line in the notebook while a run trains
                var r = Experiments.Train(config, v, data, runsRoot, progress: p =>
                    live?.Report(LiveProgress.Training($"{v} seed {s}", p.Step, p.TotalSteps, p.Metrics.Loss, p.Metrics.TokensPerSecond, p.Metrics.ElapsedSeconds)), device);
                var summary = $"{v} seed {s}: {(r.Reused ? "reused" : $"trained in {clock.Elapsed.TotalSeconds:F0} s")}, best val loss {r.BestValLoss:F4} ({r.Run.Path})";
                if (!r.Reused && live != null) live.Done(summary); else log?.Invoke(summary);
                runs.Add(r);
            }
            list.Add(new Trained(v, runs));
        }
        return list;
    }

    /// <summary>The model of a finished run: its best checkpoint (lowest validation loss), or the last one.</summary>
    public static StagFormerModel LoadModel(RunDirectory run, bool best = true, string device = "auto")
    {
        var folder = best && Checkpoint.Exists(run.BestCheckpoint) ? run.BestCheckpoint : run.LastCheckpoint;
        var model = Checkpoint.Load(folder, TorchRuntime.ResolveDevice(device));
        model.eval();
        return model;
    }
}
