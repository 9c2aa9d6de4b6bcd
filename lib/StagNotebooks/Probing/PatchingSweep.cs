using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Probing;

/// <summary>
/// An activation-patching sweep: for each hook point and position, the corrupted input is run with the clean run's
/// value patched in at that one position, and <see cref="Metric"/> of the logits is recorded. <see cref="Restored"/>
/// is (patched − corrupted) / (clean − corrupted): 1 where the patch alone restores the clean metric, 0 where it does
/// nothing (NaN when clean and corrupted agree).
/// </summary>
public sealed record PatchingSweep(IReadOnlyList<string> Points, IReadOnlyList<int> Positions, double[][] Metric, double Clean, double Corrupted)
{
    /// <summary>[point][position]: the fraction of the clean−corrupted metric gap the patch restores.</summary>
    public double[][] Restored => Metric.Select(row => row.Select(m => (m - Corrupted) / (Clean - Corrupted)).ToArray()).ToArray();

    /// <summary>
    /// Runs the sweep on a clean and a corrupted input of the same shape (B, T): one clean run with a cache of
    /// <paramref name="points"/>, one corrupted run, then one patched run per (point, position).
    /// <paramref name="metric"/> maps logits (B, T, V) to a number (e.g. <see cref="LogitDifference"/>).
    /// </summary>
    public static PatchingSweep Run(StagFormerModel model, Tensor clean, Tensor corrupted, IReadOnlyList<string> points,
                                    IReadOnlyList<int> positions, Func<Tensor, double> metric)
    {
        if (!clean.shape.SequenceEqual(corrupted.shape)) throw new ArgumentException("clean and corrupted inputs must have the same shape");
        using var cache = new ActivationCache(points.Contains);
        using var scope = torch.NewDisposeScope();
        double cleanMetric = metric(cache.Run(model, clean));
        double corruptedMetric = metric(Interventions.RunWithHooks(model, corrupted, new HookSet()));
        var result = points.Select(point => positions.Select(pos =>
        {
            using var cell = torch.NewDisposeScope();
            var hooks = new HookSet().Add(point, Interventions.Patch(cache[point], new[] { pos }));
            return metric(Interventions.RunWithHooks(model, corrupted, hooks));
        }).ToArray()).ToArray();
        return new PatchingSweep(points, positions, result, cleanMetric, corruptedMetric);
    }

    /// <summary>Metric: mean over the batch of logit[correct] − logit[wrong] at <paramref name="position"/>.</summary>
    public static Func<Tensor, double> LogitDifference(int position, long correct, long wrong) => logits =>
    {
        using var scope = torch.NewDisposeScope();
        var at = logits.select(1, position);                                       // (B, V)
        return (at.select(1, correct) - at.select(1, wrong)).mean().to(ScalarType.Float64).item<double>();
    };
}
