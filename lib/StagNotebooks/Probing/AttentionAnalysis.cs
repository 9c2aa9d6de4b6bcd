using static TorchSharp.torch;

namespace StagNotebooks.Probing;

/// <summary>How far back into the lower stack's past a cross-attention layer looks, averaged over batch, heads and queries.</summary>
/// <param name="MassByLag">MassByLag[j] = probability on memory position i−(j+1) (lag 1 first)</param>
public sealed record LagProfile(int Pass, int Layer, double[] MassByLag, double NullMass, double MeanLag);

public static class AttentionAnalysis
{
    /// <summary>Lag profile of every captured cross-attention layer. Queries that can see no memory are left out.</summary>
    public static IReadOnlyList<LagProfile> CrossAttentionLag(ActivationCapture capture, int maxLag = 32)
    {
        var profiles = new List<LagProfile>();
        foreach (var ((pass, layer), probs) in capture.CrossAttention.OrderBy(kv => kv.Key))
        {
            var keyPos = capture.CrossKeyPositions[(pass, layer)];
            var queryPos = capture.QueryPositions[(pass, layer)];
            using var mean = probs.mean(new long[] { 0, 1 });                                      // (T, Tm): over batch and heads
            var m = mean.to(ScalarType.Float64).data<double>().ToArray();
            double[]? nulls = capture.CrossNullMass.TryGetValue((pass, layer), out var nm)
                ? nm.mean(new long[] { 0, 1 }).to(ScalarType.Float64).data<double>().ToArray() : null;
            var byLag = new double[maxLag];
            double nullMass = 0, lagSum = 0; int rows = 0;
            int tm = keyPos.Length;
            for (int t = 0; t < queryPos.Length; t++)
            {
                bool seesMemory = keyPos.Any(k => k < queryPos[t]);
                if (!seesMemory && nulls is null) continue;
                rows++;
                if (nulls != null) nullMass += nulls[t];
                for (int j = 0; j < tm; j++)
                {
                    long lag = queryPos[t] - keyPos[j];
                    double p = m[t * tm + j];
                    if (lag >= 1 && lag <= maxLag) byLag[lag - 1] += p;
                    if (lag >= 1) lagSum += p * lag;
                }
            }
            if (rows == 0) continue;
            double memoryMass = 1 - nullMass / rows;
            profiles.Add(new LagProfile(pass, layer, byLag.Select(x => x / rows).ToArray(), nullMass / rows,
                memoryMass > 1e-12 ? lagSum / rows / memoryMass : double.NaN));
        }
        return profiles;
    }

    /// <summary>
    /// Cross-attention of pass <paramref name="pass"/>, layer <paramref name="layer"/> as rows that sum to 1: column 0
    /// is the null slot's weight (0 without one), then one column per memory position; for head
    /// <paramref name="head"/>, or the mean over heads when null. First sequence of the batch.
    /// </summary>
    public static double[][] CrossMap(ActivationCapture capture, int pass, int layer, int? head = null)
    {
        var probs = capture.CrossAttention[(pass, layer)][0];                                     // (H, T, Tm)
        var memory = (head is int h ? probs[h] : probs.mean(new long[] { 0 })).to(ScalarType.Float64);   // (T, Tm)
        double[]? nulls = null;
        if (capture.CrossNullMass.TryGetValue((pass, layer), out var nm))                        // (B, H, T)
            nulls = (head is int hn ? nm[0][hn] : nm[0].mean(new long[] { 0 })).to(ScalarType.Float64).data<double>().ToArray();
        long rows = memory.shape[0], cols = memory.shape[1];
        var flat = memory.data<double>().ToArray();
        return Enumerable.Range(0, (int)rows).Select(t =>
            new[] { nulls?[t] ?? 0 }.Concat(flat.Skip(t * (int)cols).Take((int)cols)).ToArray()).ToArray();
    }
}
