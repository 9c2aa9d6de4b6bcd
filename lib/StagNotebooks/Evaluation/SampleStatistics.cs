namespace StagNotebooks.Evaluation;

/// <summary>Mean and sample standard deviation of a handful of measurements (one per seed).</summary>
public static class SampleStatistics
{
    /// <summary>The sd a table shows: NaN (shown as "no sd") for fewer than two values, where MeanSd says 0.</summary>
    public static double TableSd(IEnumerable<double> xs)
    {
        var a = xs.ToArray();
        return a.Length > 1 ? MeanSd(a).Sd : double.NaN;
    }

    /// <summary>The mean and the sample sd (n − 1); the sd is 0 for a single value, so one seed draws no error bar.</summary>
    public static (double Mean, double Sd) MeanSd(IEnumerable<double> xs)
    {
        var a = xs.ToArray();
        double m = a.Average();
        return (m, a.Length > 1 ? Math.Sqrt(a.Sum(x => (x - m) * (x - m)) / (a.Length - 1)) : 0);
    }

    /// <summary>
    /// The pooled sd of two samples (each weighted by its n − 1) and the gap a − b in units of it: the budget search's
    /// resolution bar ("baseline 2h beats h by ≥ 5 pooled sd"), a design criterion, not a verdict (those are in
    /// <see cref="Verdicts"/>). NaN with a single value on either side; ±∞ when the spread is zero but the means differ.
    /// </summary>
    public static (double PooledSd, double Resolution) PooledGap(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        if (a.Count < 2 || b.Count < 2) return (double.NaN, double.NaN);
        var (ma, sa) = MeanSd(a);
        var (mb, sb) = MeanSd(b);
        double pooled = Math.Sqrt(((a.Count - 1) * sa * sa + (b.Count - 1) * sb * sb) / (a.Count + b.Count - 2));
        double gap = ma - mb;
        return (pooled, pooled == 0 ? (gap == 0 ? 0 : gap * double.PositiveInfinity) : gap / pooled);
    }
}
