namespace StagNotebooks.Benchmarks;

/// <summary>
/// An analytic model of one decode step, fitted to measurements:
///   t = c0 + c_op · (libtorch calls on the critical path) + (bytes read) / BW.
/// The per-call cost is what running stacks on separate threads divides; the bytes are what it cannot: the
/// stacks share one memory system, and the staggered model reads more (cross-attention weights and KV).
/// </summary>
public sealed record LatencyModel(double FixedMs, double MsPerCall, double BandwidthGBs, double RSquared, int Cells)
{
    public double PredictMs(double calls, double bytes) => FixedMs + MsPerCall * calls + bytes / (BandwidthGBs * 1e9) * 1e3;

    /// <summary>Least squares over every measured cell (median decode ms per token).</summary>
    public static LatencyModel Fit(IReadOnlyList<DecodeBenchResult> cells)
    {
        // Normal equations for y = a + b·calls + c·bytes.
        var rows = cells.Where(r => double.IsFinite(r.DecodeMedianMs) && r.CriticalPathTensors > 0).ToList();
        if (rows.Count < 3) throw new ArgumentException($"a latency fit needs at least 3 measured cells (got {rows.Count})");
        double[,] a = new double[3, 3];
        double[] y = new double[3];
        foreach (var r in rows)
        {
            double[] x = { 1, r.CriticalPathTensors, r.BytesReadPerStep / 1e9 };
            for (int i = 0; i < 3; i++) { y[i] += x[i] * r.DecodeMedianMs; for (int j = 0; j < 3; j++) a[i, j] += x[i] * x[j]; }
        }
        var coef = Solve3(a, y);
        double mean = rows.Average(r => r.DecodeMedianMs), ssTot = 0, ssRes = 0;
        foreach (var r in rows)
        {
            double pred = coef[0] + coef[1] * r.CriticalPathTensors + coef[2] * r.BytesReadPerStep / 1e9;
            ssRes += Math.Pow(r.DecodeMedianMs - pred, 2); ssTot += Math.Pow(r.DecodeMedianMs - mean, 2);
        }
        double bw = coef[2] > 0 ? 1.0 / coef[2] * 1e3 : double.PositiveInfinity;   // ms per GB → GB/s
        return new LatencyModel(coef[0], coef[1], bw, ssTot > 0 ? 1 - ssRes / ssTot : double.NaN, rows.Count);
    }

    static double[] Solve3(double[,] a, double[] b)
    {
        var m = (double[,])a.Clone(); var v = (double[])b.Clone();
        for (int col = 0; col < 3; col++)
        {
            int pivot = Enumerable.Range(col, 3 - col).OrderByDescending(r => Math.Abs(m[r, col])).First();
            for (int k = 0; k < 3; k++) (m[col, k], m[pivot, k]) = (m[pivot, k], m[col, k]);
            (v[col], v[pivot]) = (v[pivot], v[col]);
            if (Math.Abs(m[col, col]) < 1e-300) throw new ArgumentException("latency fit is singular: the cells do not vary enough in calls and bytes");
            for (int r = 0; r < 3; r++)
            {
                if (r == col) continue;
                double f = m[r, col] / m[col, col];
                for (int k = 0; k < 3; k++) m[r, k] -= f * m[col, k];
                v[r] -= f * v[col];
            }
        }
        return new[] { v[0] / m[0, 0], v[1] / m[1, 1], v[2] / m[2, 2] };
    }
}
