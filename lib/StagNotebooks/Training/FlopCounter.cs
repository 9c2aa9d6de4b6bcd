using StagNotebooks.Model;

namespace StagNotebooks.Training;

/// <summary>Model FLOPs per token, for MFU (achieved FLOP/s ÷ the measured GEMM peak of `stag doctor`).</summary>
public static class FlopCounter
{
    /// <summary>
    /// Forward + backward FLOPs per trained token: 6 per parameter touched (every matrix of every stack, and the
    /// unembedding; the embedding lookup is free), plus attention scores and values: 12·d·T per self-attention layer
    /// (causal: half of T² on average, counted in full as in PaLM's MFU) and per cross-attention layer.
    /// </summary>
    public static double TrainingFlopsPerToken(StagFormerConfig c, int contextLength)
    {
        var groups = ParameterReport.Expected(c);
        long matrices = groups.Where(g => g.Stack != "embedding").Sum(g => g.Count) + (long)c.VocabSize * c.DModel * (c.TiedEmbeddings ? 1 : 0);
        int passes = c.Stacks;   // shared weights are read once per pass: FLOPs count per pass
        if (c.Weights == WeightSharing.Shared)
        {
            long shared = groups.Where(g => g.Stack == "shared" && g.Component != "cross-attention").Sum(g => g.Count);
            long cross = groups.Where(g => g.Component == "cross-attention").Sum(g => g.Count);
            matrices += shared * (passes - 1) + cross * (passes - 2 > 0 ? passes - 2 : 0);
        }
        double attention = 12.0 * c.DModel * contextLength * (c.TotalLayers + (c.Stacks - 1) * c.LayersPerStack);
        return 6.0 * matrices + attention;
    }
}
