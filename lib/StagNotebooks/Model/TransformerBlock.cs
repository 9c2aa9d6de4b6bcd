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

    // Plain weights for engines that stack the p stacks' layers, pre-norm weight folded in (RMSNorm.FoldInto).
    public Tensor FoldedQueryWeight(double scale = 1.0) => cross_norm.FoldInto(cross_attn.q_proj.weight!, scale);   // (d, d)
    public Tensor OutWeight => cross_attn.GatedOutWeight();                                                      // (d, d), the gate folded in
}

/// <summary>
/// Where a block's cross-attention reads its memory. Chunk mode: <see cref="Memory"/> holds stack s−1's output at
/// the same positions as the input (and <see cref="Cache"/>, if any, the earlier ones). Step mode: Memory is null
/// and the cache already holds everything visible. <see cref="FirstRow"/>: cross-attention applies to batch rows
/// from here on (<see cref="LayerStack.StepFoldedPasses"/> folds pass 1, which has none, into the same batch).
/// </summary>
public sealed record CrossInput(Tensor? Memory, KVCache? Cache, long FirstRow = 0);

/// <summary>Pre-norm block: x + SelfAttn(norm x); [x + CrossAttn(norm x, M)]; x + FFN(norm x).</summary>
public sealed class TransformerBlock : nn.Module
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

    // Plain weights for engines that stack the p stacks' layers, pre-norm weights folded in (RMSNorm.FoldInto).
    public Tensor FoldedQkvWeight(double scale = 1.0) => attn_norm.FoldInto(self_attn.qkv_proj.weight!, scale);   // (3d, d)
    public Tensor AttnOutWeight => self_attn.o_proj.weight!;                                                    // (d, d)
    public Tensor FoldedGateUpWeight(double scale = 1.0) => ffn_norm.FoldInto(ffn.GateUpWeight(), scale);         // (2F, d) or (F, d)
    public Tensor DownWeight => ffn.down_proj.weight!;                                                          // (d, F)

    /// <param name="x">(B, T, d) at positions [start, start+T)</param>
    public Tensor Forward(Tensor x, int start, RotaryEmbedding? rope, KVCache? selfCache, CrossAttentionBlock? cross, CrossInput? crossInput)
    {
        using var scope = torch.NewDisposeScope();
        x = x.Plus(Drop(self_attn.Forward(attn_norm.forward(x), start, rope, selfCache, LayerIndex)));   // Plus: HeldScalars says why
        if (cross != null && crossInput != null)
        {
            var rows = crossInput.FirstRow == 0 ? x : x.narrow(0, crossInput.FirstRow, x.shape[0] - crossInput.FirstRow);
            var normed = cross.cross_norm.forward(rows);
            var y = crossInput.Memory is null
                ? cross.cross_attn.Step(normed, start, rope, crossInput.Cache!, LayerIndex)
                : cross.cross_attn.Forward(normed, start, crossInput.Memory, rope, crossInput.Cache, LayerIndex);
            rows = rows.Plus(Drop(y));
            x = crossInput.FirstRow == 0 ? rows : torch.cat(new[] { x.narrow(0, 0, crossInput.FirstRow), rows }, 0);
        }
        x = x.Plus(Drop(ffn.forward(ffn_norm.forward(x))));
        ActivationObservers.Current?.RecordResidual(LayerIndex, x);
        return x.MoveToOuterDisposeScope();
    }
}
