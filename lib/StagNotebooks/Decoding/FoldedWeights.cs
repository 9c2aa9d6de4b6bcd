using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Decoding;

/// <summary>
/// A block's projections as plain (out, in) matrices for <see cref="TransformerBlock.Step"/>: each pre-norm weight
/// and √d folded into the projection that reads the norm (<see cref="RMSNorm.FoldInto"/>), so a step normalizes with
/// <see cref="RMSNorm.Direction"/> alone; cross-attention's gate folded into its output projection. Folded matrices
/// are new tensors (snapshots: decoding only, not training); unfolded ones are the model's own parameters.
/// </summary>
public static class FoldedWeights
{
    static double SqrtD(Tensor w) => Math.Sqrt(w.shape[^1]);

    /// <summary>[q; k; v] (3d, d), attn_norm folded in.</summary>
    public static Tensor Qkv(TransformerBlock b) => b.attn_norm.FoldInto(b.self_attn.qkv_proj.weight!, SqrtD(b.self_attn.qkv_proj.weight!));

    /// <summary>Self-attention's output projection (d, d): the parameter itself.</summary>
    public static Tensor AttnOut(TransformerBlock b) => b.self_attn.o_proj.weight!;

    /// <summary>GeGLU [gate; up] (2F, d), else up (F, d), ffn_norm folded in.</summary>
    public static Tensor GateUp(TransformerBlock b)
    {
        using var scope = torch.NewDisposeScope();
        var w = b.ffn.GateUpWeight();
        return b.ffn_norm.FoldInto(w, SqrtD(w)).MoveToOuterDisposeScope();
    }

    /// <summary>The FFN's down projection (d, F): the parameter itself.</summary>
    public static Tensor Down(TransformerBlock b) => b.ffn.down_proj.weight!;

    /// <summary>Cross-attention's query projection (d, d), cross_norm folded in.</summary>
    public static Tensor CrossQuery(CrossAttentionBlock c) => c.cross_norm.FoldInto(c.cross_attn.q_proj.weight!, SqrtD(c.cross_attn.q_proj.weight!));

    /// <summary>
    /// Cross-attention's o_proj (d, H·D) with the gate folded in, column block h scaled by tanh(g_h) (one g per
    /// layer or per head): the same map as the gate on the heads' outputs, then o_proj. A new tensor.
    /// </summary>
    public static Tensor CrossOut(CrossAttentionBlock c)
    {
        var a = c.cross_attn;
        var w = a.o_proj.weight!;
        if (a.cross_gate is null) return w.detach().clone();
        using var scope = torch.NewDisposeScope();
        var scale = a.cross_gate.detach().tanh().repeat_interleave(w.shape[1] / a.cross_gate.shape[0]);   // (H·D)
        return (w.detach() * scale.unsqueeze(0)).MoveToOuterDisposeScope();
    }

    /// <summary>The memory's K/V projection (2d, d), memory_norm folded in: K/V before RoPE = Direction(m)·Wᵀ.</summary>
    public static Tensor MemoryKv(CrossAttentionBlock c) => c.cross_attn.memory_norm.FoldInto(c.cross_attn.kv_proj.weight!, SqrtD(c.cross_attn.kv_proj.weight!));
}
