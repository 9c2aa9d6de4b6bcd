using System.Globalization;
using StagNotebooks.Data;
using StagNotebooks.Evaluation;
using StagNotebooks.Training;

namespace StagNotebooks.Experiments;

/// <summary>One (variant, peak learning rate) cell of a sweep: its runs, one per held-out seed.</summary>
public sealed record SweepCell(string Variant, double LearningRate, Trained Runs)
{
    public ArmStats Loss => ArmStats.Of(Runs.Label, Runs.Seeds.Select(r => r.BestValLoss ?? double.NaN).ToList());
}

/// <summary>
/// Each arm at its own learning rate (STAGFORMER.md §7). Every variant trains at every peak rate (the minimum rate
/// keeps the preset's ratio to it) on <b>held-out seeds</b> (<see cref="FirstSeed"/> on), so the seeds a claim is
/// judged on play no part in choosing its rate; the rate with the lowest mean best validation loss is the arm's.
/// </summary>
public static class LearningRateSweep
{
    /// <summary>Sweep seeds start here; the judged series uses seeds 1, 2, 3, …</summary>
    public const int FirstSeed = 101;

    /// <summary>The default rates: the preset's ×0.5, ×1, ×2 (a span of ×4).</summary>
    public static IReadOnlyList<double> DefaultRates(string preset)
    {
        double lr = Presets.Config(preset).LearningRate;
        return new[] { lr / 2, lr, lr * 2 };
    }

    public static string Label(string variant, double rate) => $"{variant}@lr{rate.ToString("G3", CultureInfo.InvariantCulture)}";

    /// <summary>The arm of <paramref name="variant"/> at peak rate <paramref name="rate"/> (minimum rate scaled with it).</summary>
    public static TrainingArm Arm(string preset, string variant, double rate, string? label = null)
    {
        var p = Presets.Config(preset);
        double min = p.MinLearningRate * rate / p.LearningRate;
        return new TrainingArm(label ?? Label(variant, rate), variant, new[]
        {
            "LearningRate=" + rate.ToString("R", CultureInfo.InvariantCulture), "MinLearningRate=" + min.ToString("R", CultureInfo.InvariantCulture),
        });
    }

    public static IReadOnlyList<SweepCell> Run(string preset, IEnumerable<string> variants, IEnumerable<double> rates, int seeds, PackedDataset data,
                                               string? runsRoot = null, Action<string>? log = null, string device = "auto", int concurrency = 1)
    {
        var rs = rates.ToList();
        if (rs.Count < 2 || rs.Any(r => !(r > 0))) throw new ArgumentException($"a sweep needs at least two positive rates (got {string.Join(", ", rs)})");
        if (seeds < 2) throw new ArgumentException($"a sweep needs at least 2 seeds to tell rates apart (got {seeds})");
        var grid = variants.SelectMany(v => rs.Select(r => (Variant: v, Rate: r))).ToList();
        // One list for the scheduler: its estimate covers the whole sweep, and runs of any cells train side by side.
        var trained = ExperimentRuns.TrainAll(preset, grid.Select(g => Arm(preset, g.Variant, g.Rate)), seeds, data, runsRoot, log, device,
                                           firstSeed: FirstSeed, concurrency: concurrency);
        return grid.Zip(trained, (g, t) => new SweepCell(g.Variant, g.Rate, t)).ToList();
    }

    /// <summary>Each variant's rate with the lowest mean best validation loss.</summary>
    public static IReadOnlyDictionary<string, double> Best(IReadOnlyList<SweepCell> cells) =>
        cells.GroupBy(c => c.Variant).ToDictionary(g => g.Key, g => g.OrderBy(c => c.Loss.Mean).First().LearningRate);
}
