using System.Diagnostics;
using StagNotebooks.Model;
using StagNotebooks.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Training;

/// <summary>
/// How long a list of runs will take, before any trains. Per distinct shape (model and batch: not the seed or the
/// learning rate), the pace of a finished run of that shape in the runs folder trained at the same thread count (its
/// own clock: steps, validation and checkpoints), else a short real run measured now: the trainer on the run's own data
/// for a few steps ending in one validation pass and one checkpoint, in a scratch folder, at the thread count each run
/// will get. A run's time is then its steps at that pace plus, for the measured kind, one validation-and-checkpoint
/// cost per validation or checkpoint it makes; the sum is divided among the runs trained at once.
/// </summary>
public static class RunEstimate
{
    /// <summary>Steps of the measuring run: the first is left out (allocation, caches), the rest give the pace.</summary>
    const int MeasuredSteps = 6;

    /// <summary>Estimated wall seconds to train <paramref name="requests"/>, <paramref name="concurrency"/> at a time.</summary>
    public static double Of(IReadOnlyList<RunRequest> requests, RunOptions options, int concurrency)
    {
        if (requests.Count == 0) return 0;
        int threads = Math.Max(1, Environment.ProcessorCount / Math.Max(1, concurrency));
        var paces = new Dictionary<string, (double Step, double Boundary)>();
        double total = 0;
        foreach (var r in requests)
        {
            var key = ShapeKey(r.Config);
            if (!paces.TryGetValue(key, out var pace))
                paces[key] = pace = FromRuns(r.Config, options.RunsRoot, threads) is double s ? (s, 0) : Measure(r, TorchRuntime.ResolveDevice(options.Device), threads);
            var c = r.Config;
            int boundaries = Math.Max(c.TotalSteps / c.EvalEvery, c.TotalSteps / c.CheckpointEvery) + 1;   // + the final save
            total += pace.Step * c.TotalSteps + pace.Boundary * boundaries;
        }
        return total / Math.Min(Math.Max(1, concurrency), requests.Count);
    }

    static string ShapeKey(TrainConfig c) => c.Model.ToString() + $"|{c.BatchSize}x{c.ContextLength}x{c.GradAccumulation}|{c.EvalBatches}";

    /// <summary>
    /// Seconds per step (validation and checkpoints included) of a finished run of the same shape in
    /// <paramref name="runsRoot"/> trained at <paramref name="threads"/> threads (runs from before the thread count was
    /// recorded count as this machine's default).
    /// </summary>
    static double? FromRuns(TrainConfig c, string runsRoot, int threads)
    {
        if (!Directory.Exists(runsRoot)) return null;
        var key = ShapeKey(c);
        foreach (var dir in Directory.EnumerateDirectories(runsRoot))
        {
            var configFile = Path.Combine(dir, "config.json");
            if (!File.Exists(configFile) || !File.Exists(Path.Combine(dir, "done.json"))) continue;
            try
            {
                if (ShapeKey(TrainConfig.FromJson(File.ReadAllText(configFile), configFile)) != key) continue;
                if ((RunDirectory.ThreadsOf(dir) ?? Environment.ProcessorCount) != threads) continue;
                var last = MetricsLog.ReadFrom(dir).LastOrDefault();
                if (last is { Step: >= 10 }) return last.ElapsedSeconds / last.Step;
            }
            catch (Exception e) when (e is ConfigException or IOException or System.Text.Json.JsonException) { }   // not a run we can read: skip it
        }
        return null;
    }

    /// <summary>
    /// Seconds per training step, and the seconds one validation pass plus one checkpoint add, of a short real run of
    /// <paramref name="r"/>'s shape on its data at <paramref name="threads"/> intra-op threads (in a scratch folder, deleted after).
    /// </summary>
    public static (double Step, double Boundary) Measure(RunRequest r, Device device, int threads)
    {
        int before = torch.get_num_threads();
        if (before != threads) torch.set_num_threads(threads);   // per thread in libtorch: this thread only
        var scratch = Path.Combine(Path.GetTempPath(), $"stag-estimate-{Guid.NewGuid():N}");
        try
        {
            var c = r.Config with { MaxSteps = MeasuredSteps, TokenBudget = null, TimeBudgetSeconds = null, WarmupSteps = 1,
                                    EvalEvery = MeasuredSteps, CheckpointEvery = MeasuredSteps };
            double peak = Roofline.Of(device).GemmGflops;   // measured once per process and thread count, not part of a run
            var clock = Stopwatch.StartNew();               // a run's own set-up counts: its folder, its data opened, the model built
            var run = RunDirectory.Open(scratch, "estimate", c, r.Data.Id);
            using var sources = r.Data.Open(c);
            var at = new List<double>();   // when each step was reported: a step's whole cost (metrics rows included), as a run pays it
            using var trainer = new Trainer(run, sources.Train, sources.Val, device, peak);
            trainer.Run(_ => at.Add(clock.Elapsed.TotalSeconds));
            double wall = clock.Elapsed.TotalSeconds;
            double step = (at[^2] - at[0]) / (at.Count - 2);   // steps 2…n−1: no start-up, no validation
            return (step, Math.Max(0, wall - step * MeasuredSteps));
        }
        finally
        {
            if (before != threads) torch.set_num_threads(before);
            try { Directory.Delete(scratch, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>"45 s", "14 min", "3.4 h".</summary>
    public static string Words(double seconds) =>
        !double.IsFinite(seconds) ? "unknown time"
        : seconds < 90 ? $"{seconds:F0} s" : seconds < 5400 ? $"{seconds / 60:F0} min" : $"{seconds / 3600:F1} h";
}
