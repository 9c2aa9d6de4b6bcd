using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Decoding;

/// <summary>
/// Turns the outputs of the stacks below some passes into the cross-attention K/V of every layer of those passes in
/// one matmul: each layer's memory RMSNorm weight is folded into its KV projection (<see cref="FoldedWeights.MemoryKv"/>)
/// and the h projections are concatenated; several passes' projections are stacked like the block weights
/// (<see cref="StackedLinear"/>). A decode step then pays one normalize, one matmul and one RoPE call instead of h of
/// each. The fused weights are a snapshot taken when the projector is made: decoding sessions only, not training.
/// </summary>
public sealed class MemoryProjector : IDisposable
{
    readonly int _layers, _heads, _headDim;
    readonly double _eps;
    readonly RotaryEmbedding? _rope;

    /// <summary>(p_c, h·2d, d), or (h·2d, d) for one pass or shared weights.</summary>
    public StackedLinear Kv { get; }

    /// <summary>Into the cross caches of pass <paramref name="upper"/>'s stack.</summary>
    public MemoryProjector(StagFormerModel model, LayerStack upper) : this(model, new[] { upper }) { }

    /// <param name="upperPasses">the passes (≥ 1) whose cross caches are filled, in row order</param>
    public MemoryProjector(StagFormerModel model, IReadOnlyList<int> upperPasses)
        : this(model, upperPasses.Select(model.StackFor).ToArray(), model.Config.Weights == WeightSharing.Shared) { }

    MemoryProjector(StagFormerModel model, IReadOnlyList<LayerStack> stacks, bool shared = true)
    {
        var c = model.Config;
        _layers = c.LayersPerStack; _heads = c.Heads; _headDim = c.HeadDim; _eps = c.NormEps;
        _rope = model.rope;
        using var ng = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var slices = stacks.Select(st => torch.cat(st.cross_layers.Select(FoldedWeights.MemoryKv).ToArray(), 0)).ToArray();   // (h·2d, d) each
        Kv = new StackedLinear(slices, shared || slices.Length == 1);
    }

    /// <summary>K and V (B, H, T, D) per layer of one pass's memory m (B, T, d) at positions [pos, pos+T).</summary>
    public (Tensor[] K, Tensor[] V) Project(Tensor m, int pos)
    {
        if (Kv.Slices != 1) throw new InvalidOperationException("Project takes one pass's memory; use AppendStep for several passes");
        using var scope = torch.NewDisposeScope();
        long b = m.shape[0], t = m.shape[1];
        var kv = Kv.Forward(RMSNorm.Direction(m, _eps))                                             // (B, T, h·2d)
            .view(b, t, _layers, 2, _heads, _headDim).permute(2, 3, 0, 4, 1, 5);                     // (h, 2, B, H, T, D)
        var k = kv.select(1, 0);
        if (_rope != null) k = _rope.Apply(k, pos);                                                  // all layers' keys at once
        var v = kv.select(1, 1);
        var ks = Enumerable.Range(0, _layers).Select(l => k[l].MoveToOuterDisposeScope()).ToArray();
        var vs = Enumerable.Range(0, _layers).Select(l => v[l].MoveToOuterDisposeScope()).ToArray();
        return (ks, vs);
    }

    /// <summary>
    /// K and V of the memory at one position, below (n_c, B, d) (row j: the output of the stack below the j-th pass)
    /// → ((n_c·B), h, 2, H, 1, D) split into K and V ((n_c·B), h, H, 1, D), keys rotated to <paramref name="pos"/>.
    /// </summary>
    public (Tensor K, Tensor V) ProjectStep(Tensor below, int pos)
    {
        long rows = below.shape[0] * below.shape[1];
        var kv = Kv.Forward(RMSNorm.Direction(below, _eps)).view(rows, _layers, 2, _heads, 1, _headDim);
        var k = kv.select(2, 0);
        return (_rope is null ? k : _rope.ApplyStep(k, pos), kv.select(2, 1));
    }

    /// <summary>Projects below (n_c, B, d) at <paramref name="pos"/> and appends it to <paramref name="caches"/> (one per layer, n_c·B rows).</summary>
    public void AppendStep(IReadOnlyList<KVCache> caches, Tensor below, int pos) => Append(caches, ProjectStep(below, pos));

    /// <summary>Appends projected K/V ((rows), h, H, 1, D) to one cache per layer.</summary>
    public static void Append(IReadOnlyList<KVCache> caches, (Tensor K, Tensor V) kv)
    {
        for (int l = 0; l < caches.Count; l++) caches[l].Append(kv.K.select(1, l), kv.V.select(1, l));
    }

    public void Dispose() => Kv.Dispose();
}
