using StagNotebooks.Decoding;

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

/// <summary>What a GPU is assumed to cost per kernel; these are assumptions, not measurements.</summary>
/// <param name="LaunchUs">host time to issue one libtorch call (TorchSharp + dispatcher + CUDA launch)</param>
/// <param name="KernelUs">device time of one tiny kernel (its floor, before its bytes)</param>
/// <param name="BandwidthGBs">device memory bandwidth</param>
public sealed record GpuAssumptions(string Device, double LaunchUs, double KernelUs, double BandwidthGBs)
{
    /// <summary>An H200 driven from TorchSharp: ~6 µs to issue a call, ~3 µs per small kernel, 4.8 TB/s HBM3e.</summary>
    public static readonly GpuAssumptions H200 = new("H200 (assumed constants)", 6, 3, 4800);
}

/// <summary>
/// A PREDICTION of decode time per token on a GPU, not a measurement (no GPU was used). A step on one CUDA stream
/// takes the longer of (a) the host issuing the calls on its critical path and (b) the device running every
/// kernel of the step one after another (one stream: the thread engine's stacks do not overlap on the device)
/// plus the step's bytes at full bandwidth. At batch 1 (a) and (b)'s kernel floor dominate: launch-bound, so
/// time ∝ calls, and the stacked engine's p-fold fewer calls are what counts.
/// </summary>
public static class GpuLatencyPrediction
{
    /// <param name="criticalCalls">calls on the host's critical path (the benchmark's calls/step)</param>
    /// <param name="totalCalls">calls of the whole step, over all threads (= the sequential engine's count for the thread engine)</param>
    public static double PredictMs(GpuAssumptions g, double criticalCalls, double totalCalls, double bytes) =>
        Math.Max(criticalCalls * g.LaunchUs / 1e3, totalCalls * g.KernelUs / 1e3 + bytes / (g.BandwidthGBs * 1e9) * 1e3);

    /// <summary>
    /// The prediction for a measured case of <paramref name="all"/>: its calls and bytes; the thread engine's whole step
    /// issues the sequential engine's calls of the same variant (its own count when that case was not measured).
    /// </summary>
    public static double PredictMs(GpuAssumptions g, DecodeBenchResult r, IReadOnlyList<DecodeBenchResult> all)
    {
        double total = r.Engine == EngineKind.Parallel
            ? all.FirstOrDefault(x => x.Variant == r.Variant && x.Engine == EngineKind.Sequential)?.CriticalPathTensors ?? r.CriticalPathTensors
            : r.CriticalPathTensors;
        return PredictMs(g, r.CriticalPathTensors, total, r.BytesReadPerStep);
    }
}
