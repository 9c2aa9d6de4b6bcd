using StagNotebooks.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StagNotebooks.Model;

/// <summary>Cross-attention sublayer of an upper stack: pre-norm, then <see cref="StaggeredCrossAttention"/>.</summary>
public sealed class CrossAttentionBlock : nn.Module
{
    public RMSNorm cross_norm;
    public StaggeredCrossAttention cross_attn;

    public CrossAttentionBlock(StagFormerConfig c) : base(nameof(CrossAttentionBlock))
    {
        cross_norm = new RMSNorm(c.DModel, c.NormEps);
        cross_attn = new StaggeredCrossAttention(c);
        RegisterComponents();
    }
}

/// <summary>
/// Where a block's cross-attention reads its memory: <see cref="Memory"/> holds stack s−1's output at the same
/// positions as the input, and <see cref="Cache"/>, if any, the earlier ones (a decode step reads its cache alone:
/// <see cref="TransformerBlock.Step"/>).
/// </summary>
public sealed record CrossInput(Tensor Memory, KVCache? Cache);

/// <summary>
/// Pre-norm block: x + SelfAttn(norm x); [x + CrossAttn(norm x, M)]; x + FFN(norm x). <see cref="Forward"/> runs it
/// on a chunk of positions (training, prefill); <see cref="Step"/> (BlockStep.cs) on one position for every decoding engine.
/// </summary>
public sealed partial class TransformerBlock : nn.Module
{
    public int LayerIndex { get; }
    public RMSNorm attn_norm, ffn_norm;
    public CausalSelfAttention self_attn;
    public FeedForward ffn;
    public Dropout? resid_dropout;   // only when Dropout > 0: a decode step should not pay for a no-op call

    public TransformerBlock(StagFormerConfig c, int layerIndex) : base(nameof(TransformerBlock))
    {
        LayerIndex = layerIndex;
        attn_norm = new RMSNorm(c.DModel, c.NormEps);
        self_attn = new CausalSelfAttention(c);
        ffn_norm = new RMSNorm(c.DModel, c.NormEps);
        ffn = new FeedForward(c);
        if (c.Dropout > 0) resid_dropout = nn.Dropout(c.Dropout);
        RegisterComponents();
    }

    Tensor Drop(Tensor x) => resid_dropout is null ? x : resid_dropout.forward(x);

    /// <param name="x">(B, T, d) at positions [start, start+T)</param>
    /// <param name="pass">the pass this block runs in: names its hook points (<see cref="HookNames"/>)</param>
    public Tensor Forward(Tensor x, int start, RotaryEmbedding? rope, KVCache? selfCache, CrossAttentionBlock? cross, CrossInput? crossInput, int pass = 0)
    {
        using var scope = torch.NewDisposeScope();
        var site = ModelHooks.Current is { } hooks ? new HookSite(hooks, pass, LayerIndex) : null;
        x = x.Plus(Drop(self_attn.Forward(attn_norm.forward(x), start, rope, selfCache, LayerIndex, site)));   // Plus: HeldScalars says why
        if (cross != null && crossInput != null)
        {
            var y = cross.cross_attn.Forward(cross.cross_norm.forward(x), start, crossInput.Memory, rope, crossInput.Cache, LayerIndex, site);
            if (site is not null) y = site.Set.Apply(HookNames.CrossOut(pass, LayerIndex), y, start);
            x = x.Plus(Drop(y));
        }
        x = x.Plus(Drop(ffn.forward(ffn_norm.forward(x))));
        ActivationObservers.Current?.RecordResidual(LayerIndex, x);
        if (site is not null) x = site.Set.Apply(HookNames.ResidPost(pass, LayerIndex), x, start);
        return x.MoveToOuterDisposeScope();
    }
}
