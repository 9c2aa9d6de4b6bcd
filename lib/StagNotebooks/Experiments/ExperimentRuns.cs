using StagNotebooks.Data;
using StagNotebooks.IO;
using StagNotebooks.Model;
using StagNotebooks.Runtime;
using StagNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Experiments;

/// <summary>
/// The runs of an experiment: the calls the notebooks and `stag train` / `stag reproduce` share: the bundled data, a preset turned into a
/// variant, and training that reuses a finished run with the same config and data instead of training twice.
/// </summary>
public static class ExperimentRuns
{
    /// <summary>The bundled corpus packed with <paramref name="tokenizer"/> (cached in data/packed).</summary>
    public static PackedDataset Data(string tokenizer = "brown-bpe", Action<string>? log = null) => PackedDataset.PrepareBundled(tokenizer, log);

    /// <summary>The bundled corpus packed with the tokenizer <paramref name="preset"/> trains on (<see cref="Presets.Tokenizer"/>).</summary>
    public static PackedDataset DataFor(string preset, Action<string>? log = null) => Data(Presets.Tokenizer(preset), log);

    /// <summary>A preset with its model turned into <paramref name="variant"/>, the vocabulary of the data, a seed and overrides.</summary>
    public static TrainConfig Config(string preset, string variant, PackedDataset data, long seed = 1, IEnumerable<string>? overrides = null) =>
        Config(preset, variant, data.Manifest.VocabSize, seed, overrides);

    /// <summary>As above for a vocabulary size (<see cref="Presets.ConfigFor"/>); <paramref name="h"/>: the layers per stack (null: the preset's).</summary>
    public static TrainConfig Config(string preset, string variant, int vocab, long seed = 1, IEnumerable<string>? overrides = null, int? h = null) =>
        Presets.ConfigFor(preset, variant, vocab, seed, overrides, h);

    /// <summary>
    /// Trains (or resumes, or reuses) the run of <paramref name="config"/> on <paramref name="data"/> in
    /// runs/&lt;preset&gt;-&lt;label&gt;-&lt;id&gt; through <see cref="RunService"/>. A finished run with the same config and data is
    /// returned as is, also one trained under another label.
    /// </summary>
    public static TrainResult Train(TrainConfig config, string label, PackedDataset data, string? runsRoot = null,
                                    Action<TrainProgress>? progress = null, string device = "auto", CancellationToken cancel = default,
                                    Action<string>? log = null) =>
        RunService.TrainOrReuse(new RunRequest(config, label, new PackedRunData(data)), new RunOptions(runsRoot ?? RepoPaths.Runs, device, 1, log, progress, cancel));

    /// <summary>Trains every (label, variant) for every seed (reusing finished runs) on <paramref name="device"/> (auto, cpu, cuda, cuda:N).</summary>
    public static IReadOnlyList<Trained> TrainAll(string preset, IEnumerable<string> variants, int seeds, PackedDataset data, string? runsRoot = null, Action<string>? log = null,
                                                  string device = "auto", int concurrency = 1) =>
        TrainAll(preset, variants.Select(TrainingArm.Of), seeds, data, runsRoot, log, device, concurrency: concurrency);

    /// <summary>
    /// Trains every arm (a variant changed by overrides, under its own label) for every seed, reusing finished runs,
    /// <paramref name="concurrency"/> at a time (<see cref="RunScheduler"/>; 0: what <c>stag bench train --concurrency</c>
    /// measured fastest for the preset on this machine, else 1). Prints the plan with its estimated time, then one
    /// progress line for the whole list.
    /// </summary>
    /// <exception cref="ArgumentException">an unknown or unavailable <paramref name="device"/>, named, before anything is trained or reused</exception>
    /// <param name="firstSeed">the first seed (then firstSeed + 1, …): 1 for the judged series; a sweep uses held-out seeds</param>
    /// <param name="tuned">each arm's own peak rate (<see cref="TunedRates"/>, from the preset's learning-rate sweep); null: the preset's rate for every arm</param>
    public static IReadOnlyList<Trained> TrainAll(string preset, IEnumerable<TrainingArm> arms, int seeds, PackedDataset data, string? runsRoot = null, Action<string>? log = null,
                                                  string device = "auto", int firstSeed = 1, int concurrency = 1, TunedRates? tuned = null)
    {
        var armList = arms.ToList();
        var (requests, options) = Requests(preset, armList, seeds, data, runsRoot, log, device, firstSeed, concurrency, tuned);
        var live = log is null ? null : new LiveProgress(Console.Out);   // one live line in the notebook or terminal for the whole list
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var results = RunScheduler.TrainAll(requests, options, p => live?.Report(p.ToString()));
        if (results.Any(r => !r.Reused)) live?.Done($"trained {results.Count(r => !r.Reused)} of {results.Count} runs in {RunEstimate.Words(clock.Elapsed.TotalSeconds)}");
        foreach (var (r, q) in results.Zip(requests))
            log?.Invoke($"{q.Label} seed {q.Config.Seed}: {(r.Reused ? "reused" : "trained")}, best val loss {r.BestValLoss:F4} ({r.Run.Path})");
        return armList.Select((arm, a) => new Trained(arm.Label, results.Skip(a * seeds).Take(seeds).ToList())).ToList();
    }

    /// <summary>What <see cref="TrainAll(string, IEnumerable{TrainingArm}, int, PackedDataset, string?, Action{string}?, string, int, int, TunedRates?)"/> would train, and about how long it would take, without training anything.</summary>
    public static RunPlan Plan(string preset, IEnumerable<TrainingArm> arms, int seeds, PackedDataset data, string? runsRoot = null,
                               string device = "auto", int firstSeed = 1, int concurrency = 1, TunedRates? tuned = null)
    {
        var (requests, options) = Requests(preset, arms.ToList(), seeds, data, runsRoot, null, device, firstSeed, concurrency, tuned);
        return RunScheduler.Plan(requests, options);
    }

    static (List<RunRequest>, RunOptions) Requests(string preset, List<TrainingArm> arms, int seeds, PackedDataset data, string? runsRoot, Action<string>? log,
                                                   string device, int firstSeed, int concurrency, TunedRates? tuned)
    {
        var root = runsRoot ?? RepoPaths.Runs;
        return (Requests(preset, arms, seeds, data, firstSeed, tuned).ToList(), new RunOptions(root, device, concurrency == 0 ? ConcurrencyChoice.For(preset, root) : concurrency, log));
    }

    /// <summary>
    /// The runs <see cref="TrainAll(string, IEnumerable{TrainingArm}, int, PackedDataset, string?, Action{string}?, string, int, int, TunedRates?)"/>
    /// trains for these arms, arm by arm and seed by seed: what a series plan counts before anything trains.
    /// </summary>
    public static IReadOnlyList<RunRequest> Requests(string preset, IEnumerable<TrainingArm> arms, int seeds, PackedDataset data, int firstSeed = 1, TunedRates? tuned = null)
    {
        var list = tuned is null ? arms.ToList() : arms.Select(a => tuned.Apply(Presets.Config(preset), a)).ToList();
        return list.SelectMany(arm => Enumerable.Range(firstSeed, seeds).Select(s =>
            new RunRequest(Config(preset, arm.Variant, data.Manifest.VocabSize, seed: s, overrides: arm.Overrides, h: arm.H), arm.Label, new PackedRunData(data)))).ToList();
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
