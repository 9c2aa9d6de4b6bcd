using StagNotebooks.Decoding;
using StagNotebooks.Model;

namespace StagNotebooks.Benchmarks;

/// <summary>Bytes read and FLOPs of one decode step, from the config alone.</summary>
public sealed record StepCost(double Bytes, double Flops);

/// <summary>
/// What one decode step must move and compute. Bytes: every weight matrix a pass uses is read once per pass (the
/// stacked engine on shared weights reads the shared stack once for all passes), plus the KV caches the queries
/// attend to. FLOPs: 2 per weight per sequence, plus 4·d per cached position per attention layer (QKᵀ and AV).
/// </summary>
public static class DecodeCost
{
    public static StepCost PerStep(StagFormerConfig c, EngineKind engine, int batch, int context, int elementBytes)
    {
        var groups = ParameterReport.Expected(c);
        long d = c.DModel, h = c.LayersPerStack;
        long head = (long)c.VocabSize * d;                                                     // unembedding (tied or not)
        long stackWeights = groups.Where(g => g.Stack is not ("embedding" or "head") && g.Component != "cross-attention").Sum(g => g.Count)
                            / (c.Weights == WeightSharing.Shared ? 1 : c.Stacks);             // one stack's self-attention + FFN
        long crossWeights = groups.Where(g => g.Component == "cross-attention").Sum(g => g.Count)
                            / (c.Weights == WeightSharing.Shared || c.Stacks == 1 ? 1 : c.Stacks - 1);   // one upper stack's
        int crossPositions = c.CrossWindow is int w ? Math.Min(w, context) : context;
        bool recurrent = engine.IsRecurrent();
        int passes = recurrent ? 1 : c.Stacks, upperPasses = recurrent ? 1 : c.Stacks - 1;

        // Weights read: per pass, except that one batched call reads shared weights once (the stacked engine on a
        // shared-weights model). The stacked engine on separate weights reads each stack's
        // slice of the stacked tensors once: the same bytes as the other engines, in p-times fewer calls.
        bool batchedShared = engine == EngineKind.Stacked && c.Weights == WeightSharing.Shared;
        double weightReads = (batchedShared ? stackWeights + (c.Stacks > 1 ? crossWeights : 0) : passes * stackWeights + upperPasses * crossWeights) + head;
        double kvReads = 2.0 * d * batch * h * ((double)passes * context + (double)upperPasses * crossPositions);
        double bytes = (weightReads + kvReads) * elementBytes;

        double matFlops = 2.0 * batch * (passes * stackWeights + upperPasses * crossWeights + head);
        double attnFlops = 4.0 * d * batch * h * ((double)passes * context + (double)upperPasses * crossPositions);
        return new StepCost(bytes, matFlops + attnFlops);
    }
}
