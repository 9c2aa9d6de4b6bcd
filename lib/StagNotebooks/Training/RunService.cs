using StagNotebooks.Data;
using StagNotebooks.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Training;

/// <summary>The batches a trainer reads for one run (and what must be disposed after it).</summary>
public sealed record RunSources(IBatchSource Train, IEvalSource? Val, IDisposable? Owned = null) : IDisposable
{
    public void Dispose() => Owned?.Dispose();
}

/// <summary>
/// What a run trains on. <see cref="Id"/> is part of the run's identity (a finished run is reused only on the same data);
/// <see cref="Spec"/> says how another process opens the same data (the scheduler's workers), e.g. "packed:/path/to/folder".
/// </summary>
public interface IRunData
{
    string Id { get; }
    string Spec { get; }
    RunSources Open(TrainConfig config);
}

/// <summary>The bundled corpus (or any packed folder): random windows of train, sequential windows of val.</summary>
public sealed class PackedRunData(PackedDataset data) : IRunData
{
    public const string Prefix = "packed:";
    public PackedDataset Dataset => data;
    public string Id => data.Id;
    public string Spec => Prefix + data.Folder;

    public RunSources Open(TrainConfig config)
    {
        var train = data.Open("train");
        var val = data.Open("val");
        return new RunSources(new RandomWindowBatches(train, config.Seed), new SequentialWindows(val, data.Manifest.Splits["val"].BytesPerToken),
                              new Both(train, val));
    }

    sealed class Both(IDisposable a, IDisposable b) : IDisposable { public void Dispose() { a.Dispose(); b.Dispose(); } }
}

/// <summary>One run to train or reuse: its config, the label it is filed under, its data.</summary>
/// <param name="Name">the run folder's name (null: runs/&lt;preset&gt;-&lt;label&gt;-&lt;id&gt;)</param>
public sealed record RunRequest(TrainConfig Config, string Label, IRunData Data, string? Name = null)
{
    public string FolderName => Name ?? RunDirectory.DefaultName(Config, Label, Data.Id);
}

/// <summary>Where and how runs train: the runs folder, the device, how many at once, and who hears about it.</summary>
/// <param name="Concurrency">runs trained at the same time (worker processes sharing the cores); 1: one at a time in this process</param>
/// <param name="Progress">each training step of a run trained in this process (the scheduler reports its own)</param>
public sealed record RunOptions(string RunsRoot, string Device = "auto", int Concurrency = 1, Action<string>? Log = null,
                                Action<TrainProgress>? Progress = null, CancellationToken Cancel = default);

/// <summary>
/// The one train-or-reuse path: the notebooks, <c>stag train</c>, the synthetic suite, the budget search and the
/// quality-gap arms all train here. A finished run with the same config and data is returned as is (also one trained
/// under another label); an unfinished one resumes from its last checkpoint; a run another process is training is
/// waited for (the run's lock). Many runs at once: <see cref="RunScheduler"/>.
/// </summary>
public static class RunService
{
    /// <summary>Trains (or resumes, or reuses) one run on <see cref="RunOptions.Device"/>.</summary>
    /// <exception cref="ArgumentException">an unknown or unavailable device, named</exception>
    public static TrainResult TrainOrReuse(RunRequest request, RunOptions options)
    {
        var run = Find(request, options.RunsRoot);
        if (run.IsComplete) return Reuse(run);
        using var held = run.Lock(options.Log, options.Cancel);   // another process training this run: wait for it
        if (run.IsComplete) return Reuse(run);                     // it finished while we waited
        var device = TorchRuntime.ResolveDevice(options.Device);
        using var sources = request.Data.Open(request.Config);
        using var trainer = new Trainer(run, sources.Train, sources.Val, device, Roofline.Of(device).GemmGflops) { Log = options.Log };
        return trainer.Run(options.Progress, options.Cancel);
    }

    /// <summary>The run folder of <paramref name="request"/>: a finished identical run wherever it is filed, else its own (created).</summary>
    public static RunDirectory Find(RunRequest request, string runsRoot) =>
        RunDirectory.FindComplete(runsRoot, request.Config, request.Data.Id) ?? RunDirectory.Open(runsRoot, request.FolderName, request.Config, request.Data.Id);

    /// <summary>The result of a finished run, read from its metrics.</summary>
    public static TrainResult Reuse(RunDirectory run)
    {
        var metrics = MetricsLog.ReadFrom(run.Path);
        return new TrainResult(run, metrics[^1].Step, metrics[^1].Loss, metrics.Where(m => m.ValLoss != null).Select(m => m.ValLoss).Min(), metrics,
                               Resumed: false, Reused: true);
    }
}
