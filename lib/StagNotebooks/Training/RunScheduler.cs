using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using StagNotebooks.IO;
using StagNotebooks.Runtime;

namespace StagNotebooks.Training;

/// <summary>A list of runs before it trains: how many, how many are reused, how many train at once, and the estimated wall time.</summary>
public sealed record RunPlan(int Total, int ToTrain, int Concurrency, double EstimatedSeconds)
{
    /// <summary>The estimated seconds of each run to train (alone, at the threads it gets), in order: what the live time left weighs runs by.</summary>
    public IReadOnlyList<double> RunSeconds { get; init; } = Array.Empty<double>();

    /// <summary>The indices (into the planned requests) of the runs to train, in order: those <see cref="RunSeconds"/> estimates.</summary>
    public IReadOnlyList<int> Pending { get; init; } = Array.Empty<int>();

    /// <summary>"12 of 36 runs to train (24 reused), 1 at a time: about 1.2 h".</summary>
    public override string ToString() =>
        $"{ToTrain} of {Total} runs to train ({Total - ToTrain} reused), {Concurrency} at a time: about {RunEstimate.Words(EstimatedSeconds)}";
}

/// <summary>Where a series of runs stands: runs done and left, the runs training now, and the estimated time left.</summary>
public sealed record SeriesProgress(int Done, int Total, IReadOnlyList<string> Training, double SecondsLeft)
{
    /// <summary>"training 3/12 done · separate-2xh seed 2 step 120/1500 · … · ~14 min left".</summary>
    public override string ToString() =>
        $"training {Done}/{Total} done{string.Concat(Training.Select(t => " · " + t))} · {RunEstimate.Words(SecondsLeft)} left";
}

/// <summary>
/// Trains a list of runs, several at once when <see cref="RunOptions.Concurrency"/> &gt; 1: each in its own worker
/// process (<c>stag run-worker</c>) with its share of the cores. Processes, not threads: TorchSharp frees some of its
/// own Scalars (AdamW's step) from a finalizer that another thread's collection can run mid-call (environment.md), and
/// a process's memory is its own to measure. A run's results do not depend on how many ran beside it: a worker runs
/// the same <see cref="RunService.TrainOrReuse"/> on the same data, and CPU training is bit-identical at 1 and 2
/// intra-op threads (RunSchedulerTests checks the checkpoints byte for byte).
/// </summary>
public static class RunScheduler
{
    /// <summary>Set to a stag.dll to run workers from it (default: the repository's lib/Stag build of this configuration).</summary>
    public const string WorkerVariable = "STAG_WORKER";

    /// <summary>The line prefix a worker reports a step with: "@progress step total loss tokens/s elapsed".</summary>
    public const string ProgressPrefix = "@progress ";

    /// <summary>
    /// Trains (or reuses) every request and returns their results in request order. Finished runs are reused without
    /// starting anything; the rest train <see cref="RunOptions.Concurrency"/> at a time (lowered when memory would not
    /// hold them, or when no worker is built); <paramref name="series"/> hears where the whole list stands.
    /// </summary>
    public static IReadOnlyList<TrainResult> TrainAll(IReadOnlyList<RunRequest> requests, RunOptions options, Action<SeriesProgress>? series = null)
    {
        var (finished, pending, plan) = Prepare(requests, options);
        var results = finished.Select(f => f is null ? null : RunService.Reuse(f)).ToArray();
        if (pending.Count > 0) options.Log?.Invoke(plan.ToString());
        var tracker = new Tracker(requests, pending, results, plan, series);
        if (plan.Concurrency <= 1)
            foreach (var i in pending)
            {
                results[i] = RunService.TrainOrReuse(requests[i], options with { Progress = p => { options.Progress?.Invoke(p); tracker.Step(i, p.Step, p.TotalSteps); } });
                tracker.Completed(i);
            }
        else
            RunWorkers(requests, pending, results, options, plan.Concurrency, tracker);
        tracker.Finish();
        return results.Select(r => r!).ToList();
    }

    /// <summary>What <see cref="TrainAll"/> would do, without training or creating anything: runs to train, reused, at once, and the estimate.</summary>
    public static RunPlan Plan(IReadOnlyList<RunRequest> requests, RunOptions options) => Prepare(requests, options).Plan;

    /// <summary>Each request's finished run (null: to train), the indices to train, and the plan for them.</summary>
    static (RunDirectory?[] Finished, List<int> Pending, RunPlan Plan) Prepare(IReadOnlyList<RunRequest> requests, RunOptions options)
    {
        TorchRuntime.ResolveDevice(options.Device);   // a bad device is an error now, also when every run would be reused
        var finished = requests.Select(r => RunDirectory.FindComplete(options.RunsRoot, r.Config, r.Data.Id)).ToArray();
        var pending = Enumerable.Range(0, requests.Count).Where(i => finished[i] is null).ToList();
        int concurrency = Concurrency(requests, pending, options);
        var seconds = RunEstimate.PerRun(pending.Select(i => requests[i]).ToList(), options, concurrency);
        return (finished, pending, new RunPlan(requests.Count, pending.Count, concurrency, RunEstimate.Total(seconds, concurrency)) { RunSeconds = seconds, Pending = pending });
    }

    static int Concurrency(IReadOnlyList<RunRequest> requests, List<int> pending, RunOptions options)
    {
        int wanted = Math.Min(options.Concurrency, pending.Count);
        if (wanted <= 1) return 1;
        if (TorchRuntime.ResolveDevice(options.Device).type != TorchSharp.DeviceType.CPU)
        {
            options.Log?.Invoke("concurrency > 1 shares CPU cores; on a GPU runs train one at a time");
            return 1;
        }
        if (WorkerPath() is null)
        {
            options.Log?.Invoke($"no worker built (lib/Stag: dotnet build -c Release, or set {WorkerVariable}): training one run at a time");
            return 1;
        }
        long need = pending.Max(i => RunMemory.Estimate(requests[i].Config)), free = RunMemory.Available();
        int fits = (int)Math.Max(1, Math.Min(wanted, free * 8 / 10 / need));
        if (fits < wanted)
            options.Log?.Invoke($"memory: {free >> 20} MiB available, about {need >> 20} MiB per run: {fits} at a time instead of {wanted}");
        return fits;
    }

    static void RunWorkers(IReadOnlyList<RunRequest> requests, List<int> pending, TrainResult?[] results, RunOptions options, int concurrency, Tracker tracker)
    {
        int threads = Math.Max(1, Environment.ProcessorCount / concurrency);
        var queue = new Queue<int>(pending);
        var running = new List<(int Index, Process Process, Task<string> Errors)>();
        try
        {
            while (queue.Count > 0 || running.Count > 0)
            {
                while (running.Count < concurrency && queue.Count > 0)
                {
                    int i = queue.Dequeue();
                    var p = StartWorker(requests[i], options, threads, line => tracker.Line(i, line));
                    running.Add((i, p, p.StandardError.ReadToEndAsync()));
                }
                var finished = running.FirstOrDefault(r => r.Process.HasExited);
                if (finished.Process is null)
                {
                    options.Cancel.WaitHandle.WaitOne(200);
                    options.Cancel.ThrowIfCancellationRequested();
                    continue;
                }
                running.Remove(finished);
                finished.Process.WaitForExit();   // drains the output callbacks
                if (finished.Process.ExitCode != 0)
                    throw new InvalidOperationException($"the worker training {Describe(requests[finished.Index])} failed (exit {finished.Process.ExitCode}): " +
                                                        LastLines(finished.Errors.Result));
                var run = RunService.Find(requests[finished.Index], options.RunsRoot);
                results[finished.Index] = RunService.Reuse(run) with { Reused = false };
                tracker.Completed(finished.Index);
                finished.Process.Dispose();
            }
        }
        finally
        {
            // Cancelled or failed: stop the others; their runs resume from their last checkpoint next time.
            foreach (var r in running) { try { r.Process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } r.Process.Dispose(); }
        }
    }

    static Process StartWorker(RunRequest r, RunOptions options, int threads, Action<string> onLine)
    {
        var request = new JsonObject
        {
            ["config"] = JsonNode.Parse(r.Config.ToJson()), ["label"] = r.Label, ["data"] = r.Data.Spec, ["dataId"] = r.Data.Id,
            ["name"] = r.FolderName, ["runsRoot"] = Path.GetFullPath(options.RunsRoot), ["device"] = options.Device, ["threads"] = threads,
        };
        var file = Path.Combine(Path.GetTempPath(), $"stag-run-{Guid.NewGuid():N}.json");
        AtomicFile.WriteAllText(file, request.ToJsonString());
        var (host, args) = WorkerCommand();
        var info = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args.Append("run-worker").Append(file)) info.ArgumentList.Add(a);
        var p = new Process { StartInfo = info, EnableRaisingEvents = true };
        p.OutputDataReceived += (_, e) => { if (e.Data != null) onLine(e.Data); };
        p.Exited += (_, _) => { try { File.Delete(file); } catch (IOException) { } };
        p.Start();
        p.BeginOutputReadLine();
        return p;
    }

    static string Describe(RunRequest r) => $"{r.Label} seed {r.Config.Seed} ({r.FolderName})";

    static string LastLines(string text) => string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(3));

    /// <summary>The stag.dll workers run from: <see cref="WorkerVariable"/>, else lib/Stag's build of this library's configuration; null when not built.</summary>
    public static string? WorkerPath()
    {
        if (Environment.GetEnvironmentVariable(WorkerVariable) is { Length: > 0 } set) return File.Exists(set) ? set : null;
        var own = typeof(RunScheduler).Assembly.Location;
        var config = own.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        var bin = Path.Combine(RepoPaths.Root, "lib", "Stag", "bin", config);
        return Directory.Exists(bin)
            ? Directory.GetFiles(bin, "stag.dll", SearchOption.AllDirectories).OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault()
            : null;
    }

    static (string Host, IEnumerable<string> Args) WorkerCommand()
    {
        // The dotnet host running us when there is one (`dotnet stag.dll`, `dotnet test`), else the SDK's (a kernel, a tool).
        var self = Environment.ProcessPath;
        var host = self != null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self
                 : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h : "dotnet";
        return (host, new[] { WorkerPath()! });
    }

    /// <summary>
    /// A series' time left: the work left (in estimated seconds) at the pace measured so far, i.e. work left ÷ work
    /// done × time so far; <paramref name="estimate"/> before any work is done.
    /// </summary>
    public static double TimeLeft(double workTotal, double workDone, double elapsed, double estimate) =>
        workDone <= 0 ? estimate : elapsed / workDone * Math.Max(0, workTotal - workDone);

    /// <summary>Parses a worker's progress line into (step, total, loss, tokens/s, elapsed s); null for any other line.</summary>
    public static (int Step, int Total, double Loss, double TokensPerSecond, double Elapsed)? ParseProgress(string line)
    {
        if (!line.StartsWith(ProgressPrefix, StringComparison.Ordinal)) return null;
        var f = line[ProgressPrefix.Length..].Split(' ');
        var inv = CultureInfo.InvariantCulture;
        return f.Length == 5 ? (int.Parse(f[0], inv), int.Parse(f[1], inv), double.Parse(f[2], inv), double.Parse(f[3], inv), double.Parse(f[4], inv)) : null;
    }

    /// <summary>The line a worker prints for each step (<see cref="ParseProgress"/> reads it).</summary>
    public static string ProgressLine(TrainProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"{ProgressPrefix}{p.Step} {p.TotalSteps} {p.Metrics.Loss:R} {p.Metrics.TokensPerSecond:R} {p.Metrics.ElapsedSeconds:R}");

    /// <summary>
    /// Follows every run of a series and reports where it stands (at most every 2 s while steps arrive). Time left:
    /// the plan's estimate until a step is done; then the work left (each run weighed by its estimated seconds, a run in
    /// progress by its share of steps done) at the pace measured so far against the estimate.
    /// </summary>
    sealed class Tracker(IReadOnlyList<RunRequest> requests, List<int> pending, TrainResult?[] results, RunPlan plan, Action<SeriesProgress>? report)
    {
        readonly Dictionary<int, (int Step, int Total)> _live = new();
        readonly Stopwatch _clock = Stopwatch.StartNew(), _since = Stopwatch.StartNew();
        // Weights: the plan's seconds of each pending run; equal weights when the plan has none.
        readonly Dictionary<int, double> _weight = pending.Select((i, k) => (i, W: k < plan.RunSeconds.Count && plan.RunSeconds[k] > 0 ? plan.RunSeconds[k] : 1.0))
                                                          .ToDictionary(x => x.i, x => x.W);
        double _workDone;

        public void Line(int i, string line)
        {
            if (ParseProgress(line) is { } p) Step(i, p.Step, p.Total);
        }

        public void Step(int i, int step, int total)
        {
            lock (_live) _live[i] = (step, total);
            if (_since.Elapsed.TotalSeconds >= 2) { _since.Restart(); Report(); }
        }

        public void Completed(int i)
        {
            lock (_live) { _live.Remove(i); _workDone += _weight.GetValueOrDefault(i, 1.0); }
            Report();
        }

        public void Finish() { if (pending.Count > 0) Report(); }

        void Report()
        {
            if (report is null) return;
            lock (_live)
            {
                double done = _workDone + _live.Sum(kv => _weight.GetValueOrDefault(kv.Key, 1.0) * kv.Value.Step / Math.Max(1, kv.Value.Total));
                double left = TimeLeft(_weight.Values.Sum(), done, _clock.Elapsed.TotalSeconds, plan.EstimatedSeconds);
                var training = _live.Select(kv => $"{requests[kv.Key].Label} seed {requests[kv.Key].Config.Seed} step {kv.Value.Step}/{kv.Value.Total}").ToList();
                report(new SeriesProgress(results.Count(r => r != null), requests.Count, training, left));
            }
        }
    }
}
