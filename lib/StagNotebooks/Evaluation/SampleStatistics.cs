namespace StagNotebooks.Evaluation;

/// <summary>Mean and sample standard deviation of a handful of measurements (one per seed).</summary>
public static class SampleStatistics
{
    /// <summary>The mean and the sample sd (n − 1); the sd is 0 for a single value, so one seed draws no error bar.</summary>
    public static (double Mean, double Sd) MeanSd(IEnumerable<double> xs)
    {
        var a = xs.ToArray();
        double m = a.Average();
        return (m, a.Length > 1 ? Math.Sqrt(a.Sum(x => (x - m) * (x - m)) / (a.Length - 1)) : 0);
    }
}
