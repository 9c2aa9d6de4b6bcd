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
    /// <summary>Steps of the measuring run: the first (allocation, caches) and the last (validation, save) are left out of the pace.</summary>
    const int MeasuredSteps = 8;

    /// <summary>Estimated wall seconds to train <paramref name="requests"/>, <paramref name="concurrency"/> at a time.</summary>
    public static double Of(IReadOnlyList<RunRequest> requests, RunOptions options, int concurrency) =>
        Total(PerRun(requests, options, concurrency), concurrency);

    /// <summary>The wall time of runs taking <paramref name="perRun"/> seconds each, <paramref name="concurrency"/> at a time.</summary>
    public static double Total(IReadOnlyList<double> perRun, int concurrency) =>
        perRun.Count == 0 ? 0 : perRun.Sum() / Math.Min(Math.Max(1, concurrency), perRun.Count);

    /// <summary>
    /// Estimated seconds of each request, trained at the thread count it gets when <paramref name="concurrency"/>
    /// train at once (runs of one shape share one measurement). A series' live time left weighs runs by these, so a
    /// list of shallow then deep models is not judged by the shallow ones' pace.
    /// </summary>
    public static IReadOnlyList<double> PerRun(IReadOnlyList<RunRequest> requests, RunOptions options, int concurrency)
    {
        int threads = Math.Max(1, Environment.ProcessorCount / Math.Max(1, concurrency));
        var paces = new Dictionary<string, (double Step, double Once, double Boundary)>();
        var seconds = new List<double>(requests.Count);
        foreach (var r in requests)
        {
            var key = ShapeKey(r.Config);
            if (!paces.TryGetValue(key, out var pace))
                paces[key] = pace = FromRuns(r.Config, options.RunsRoot, threads) is double s ? (s, 0, 0) : Measure(r, TorchRuntime.ResolveDevice(options.Device), threads);
            var c = r.Config;
            int boundaries = Math.Max(c.TotalSteps / c.EvalEvery, c.TotalSteps / c.CheckpointEvery);   // the last step's included
            seconds.Add(pace.Once + pace.Step * c.TotalSteps + pace.Boundary * Math.Max(1, boundaries));
        }
        return seconds;
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
    /// Of a short real run of <paramref name="r"/>'s shape on its data at <paramref name="threads"/> intra-op threads (in
    /// a scratch folder, deleted after): seconds per training step, the seconds a run pays once (its folder, data and
    /// model before the first step; its end after the last), and the seconds one validation pass plus one checkpoint add.
    /// </summary>
    public static (double Step, double Once, double Boundary) Measure(RunRequest r, Device device, int threads)
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
            // The median step between the first and the last (no start-up, no validation): one pause of the machine does not move it.
            var steps = Enumerable.Range(1, at.Count - 2).Select(i => at[i] - at[i - 1]).Order().ToList();
            double step = (steps[steps.Count / 2] + steps[(steps.Count - 1) / 2]) / 2;
            double once = Math.Max(0, at[0] - step) + (wall - at[^1]);   // before the first step's report, after the last's
            return (step, once, Math.Max(0, at[^1] - at[^2] - step));      // the last step's report comes after its validation and save
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
