using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Decoding;

/// <summary>
/// Turns a stack's output into the cross-attention K/V of every layer of the stack above in one matmul: each
/// layer's memory RMSNorm weight is folded into its KV projection, (x̂·w)Wᵀ = x̂(W·diag w)ᵀ
/// (<see cref="StaggeredCrossAttention.FoldedMemoryKvWeight"/>), and the h projections are stacked. A decode step
/// then pays one normalize, one matmul and one RoPE call instead of h of each.
/// The fused weights are a snapshot taken when the projector is made: decoding sessions only, not training.
/// </summary>
public sealed class MemoryProjector : IDisposable
{
    readonly Tensor _weight;   // (h·2d, d)
    readonly StaggeredCrossAttention _first;   // normalizes the memory: the weightless norm is the same in every layer
    readonly int _layers, _heads, _headDim;
    readonly RotaryEmbedding? _rope;

    public MemoryProjector(StagFormerModel model, LayerStack upper)
    {
        var c = model.Config;
        var cross = upper.cross_layers.Select(l => l.cross_attn).ToArray();
        _first = cross[0];
        _layers = cross.Length; _heads = c.Heads; _headDim = c.HeadDim;
        _rope = model.rope;
        using var ng = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        _weight = torch.cat(cross.Select(a => a.FoldedMemoryKvWeight()).ToArray(), 0).DetachFromDisposeScope();
    }

    /// <summary>K and V (B, H, T, D) per layer of memory m (B, T, d) at positions [pos, pos+T).</summary>
    public (Tensor[] K, Tensor[] V) Project(Tensor m, int pos)
    {
        using var scope = torch.NewDisposeScope();
        long b = m.shape[0], t = m.shape[1];
        var kv = nn.functional.linear(_first.NormalizeMemory(m), _weight)                            // (B, T, h·2d)
            .view(b, t, _layers, 2, _heads, _headDim).permute(2, 3, 0, 4, 1, 5);                     // (h, 2, B, H, T, D)
        var k = kv.select(1, 0);
        if (_rope != null) k = _rope.Apply(k, pos);                                                  // all layers' keys at once
        var v = kv.select(1, 1);
        var ks = Enumerable.Range(0, _layers).Select(l => k[l].MoveToOuterDisposeScope()).ToArray();
        var vs = Enumerable.Range(0, _layers).Select(l => v[l].MoveToOuterDisposeScope()).ToArray();
        return (ks, vs);
    }

    /// <summary>Appends one projection to the caches of the stack above (one per layer).</summary>
    public static void Append(IReadOnlyList<KVCache> caches, (Tensor[] K, Tensor[] V) kv)
    {
        for (int l = 0; l < caches.Count; l++) caches[l].Append(kv.K[l], kv.V[l]);
    }

    public void Dispose() => _weight.Dispose();
}
