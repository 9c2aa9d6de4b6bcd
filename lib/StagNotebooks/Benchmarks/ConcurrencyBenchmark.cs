using System.Diagnostics;
using StagNotebooks.Data;
using StagNotebooks.Training;

namespace StagNotebooks.Benchmarks;

/// <summary>One concurrency level of <see cref="ConcurrencyBenchmark"/>: wall time for the same runs, and whether every run came out byte-identical to the first level's.</summary>
public sealed record ConcurrencyLevel(int Concurrency, double WallSeconds, double RunsPerHour, double Speedup, bool Identical, string? FirstDifference);

/// <summary>
/// <c>stag bench train --concurrency 1,2</c>: trains the same runs (variants × seeds of a preset, on the real corpus)
/// through <see cref="RunScheduler"/> at each level, from empty run folders, and reports wall time and runs per hour,
/// the speed-up over the first level, and whether each run's final weights and optimizer state are byte-identical to
/// the first level's (a run's result must not depend on what trained beside it). The fastest identical level is
/// recorded for <see cref="ConcurrencyChoice"/>.
/// </summary>
public static class ConcurrencyBenchmark
{
    public static IReadOnlyList<ConcurrencyLevel> Run(string preset, IReadOnlyList<string> variants, int seeds, int? steps, IReadOnlyList<int> levels,
                                                      string device, string scratch, Action<string>? log = null)
    {
        var data = PackedDataset.PrepareBundled(Presets.Tokenizer(preset), log);
        var overrides = steps is int s ? new[] { $"MaxSteps={s}" } : null;
        var requests = variants.SelectMany(v => Enumerable.Range(1, seeds).Select(seed =>
            new RunRequest(Presets.ConfigFor(preset, v, data.Manifest.VocabSize, seed, overrides), v, new PackedRunData(data)))).ToList();
        var walls = new List<(int Level, double Wall, IReadOnlyList<TrainResult> Results)>();
        foreach (var level in levels)
        {
            var root = Path.Combine(scratch, $"concurrency-{level}");
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
            var clock = Stopwatch.StartNew();
            var results = RunScheduler.TrainAll(requests, new RunOptions(root, device, level, log));
            walls.Add((level, clock.Elapsed.TotalSeconds, results));
            log?.Invoke($"concurrency {level}: {requests.Count} runs in {clock.Elapsed.TotalSeconds:F1} s");
        }
        return walls.Select(w =>
        {
            var difference = FirstDifference(walls[0].Results, w.Results);
            return new ConcurrencyLevel(w.Level, w.Wall, requests.Count / (w.Wall / 3600), walls[0].Wall / w.Wall, difference is null, difference);
        }).ToList();
    }

    /// <summary>The fastest level whose runs matched the first level's (the first level itself when none is faster).</summary>
    public static int Best(IReadOnlyList<ConcurrencyLevel> levels) => levels.Where(l => l.Identical).MaxBy(l => l.Speedup)!.Concurrency;

    /// <summary>The first file of a run's last checkpoint (weights, optimizer state) that differs between two levels; null when all match.</summary>
    static string? FirstDifference(IReadOnlyList<TrainResult> a, IReadOnlyList<TrainResult> b)
    {
        foreach (var (x, y) in a.Zip(b))
            foreach (var file in new[] { "weights.bin", "optimizer.bin" })
            {
                string fx = Path.Combine(Last(x.Run), file), fy = Path.Combine(Last(y.Run), file);
                if (!File.ReadAllBytes(fx).AsSpan().SequenceEqual(File.ReadAllBytes(fy))) return $"{fy} differs from {fx}";
            }
        return null;
    }

    static string Last(RunDirectory run) => Path.Combine(run.Checkpoints, new CheckpointStore(run.Checkpoints).Candidates()[0]);
}
