using System.Diagnostics;
using StagNotebooks.Data;
using StagNotebooks.Training;

namespace StagNotebooks.Benchmarks;

/// <summary>One concurrency level of <see cref="ConcurrencyBenchmark"/>: wall time for the same runs, and whether every run came out byte-identical to the first level's.</summary>
/// <param name="WallSeconds">the median over repeats</param>
/// <param name="Walls">every repeat's wall time, in the order they ran</param>
public sealed record ConcurrencyLevel(int Concurrency, double WallSeconds, IReadOnlyList<double> Walls, double RunsPerHour, double Speedup, bool Identical, string? FirstDifference);

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
                                                      string device, string scratch, Action<string>? log = null, int repeats = 1)
    {
        var data = PackedDataset.PrepareBundled(Presets.Tokenizer(preset), log);
        var overrides = steps is int s ? new[] { $"MaxSteps={s}" } : null;
        var requests = variants.SelectMany(v => Enumerable.Range(1, seeds).Select(seed =>
            new RunRequest(Presets.ConfigFor(preset, v, data.Manifest.VocabSize, seed, overrides), v, new PackedRunData(data)))).ToList();
        var walls = levels.ToDictionary(l => l, _ => new List<double>());
        var differences = levels.ToDictionary(l => l, _ => (string?)null);
        IReadOnlyList<TrainResult>? reference = null;
        for (int r = 0; r < repeats; r++)
            foreach (var level in r % 2 == 0 ? levels : levels.Reverse())
            {
                var root = Path.Combine(scratch, $"concurrency-{level}-repeat-{r + 1}");
                if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
                var clock = Stopwatch.StartNew();
                var results = RunScheduler.TrainAll(requests, new RunOptions(root, device, level, log));
                walls[level].Add(clock.Elapsed.TotalSeconds);
                log?.Invoke($"concurrency {level} (repeat {r + 1}): {requests.Count} runs in {clock.Elapsed.TotalSeconds:F1} s");
                reference ??= results;
                differences[level] ??= FirstDifference(reference, results);
            }
        double Median(List<double> xs) => DecodeBenchmark.Percentile(xs, 0.5);
        double first = Median(walls[levels[0]]);
        return levels.Select(l => new ConcurrencyLevel(l, Median(walls[l]), walls[l], requests.Count / (Median(walls[l]) / 3600), first / Median(walls[l]),
                                                       differences[l] is null, differences[l])).ToList();
    }

    /// <summary>The table figures/train-concurrency/&lt;preset&gt;.md holds: what was trained, each level's wall times, the speed-up and identity.</summary>
    public static string Markdown(IReadOnlyList<ConcurrencyLevel> levels, string preset, IReadOnlyList<string> variants, int seeds, int? steps, int repeats)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var lines = new List<string>
        {
            $"`stag bench train --concurrency {string.Join(",", levels.Select(l => l.Concurrency))} --preset {preset}{(steps is int s ? $" --steps {s}" : "")} --repeats {repeats}`: " +
            $"{variants.Count * seeds} runs ({string.Join(", ", variants)}; {seeds} seed(s)) from empty folders on {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}.",
            "",
            $"| runs at once | wall s (median) | each repeat | runs per hour | × {levels[0].Concurrency} at once | every run byte-identical |",
            "|---|---|---|---|---|---|",
        };
        lines.AddRange(levels.Select(l => string.Create(inv,
            $"| {l.Concurrency} | {l.WallSeconds:F1} | {string.Join(" ", l.Walls.Select(w => w.ToString("F1", inv)))} | {l.RunsPerHour:F1} | {l.Speedup:F2} | {(l.Identical ? "yes" : "no")} |")));
        return string.Join("\n", lines) + "\n";
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
