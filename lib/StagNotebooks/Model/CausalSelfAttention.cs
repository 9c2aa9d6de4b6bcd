using StagNotebooks.Decoding;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StagNotebooks.Model;

/// <summary>Multi-head causal self-attention over a stack's own stream (SDPA), with an optional caller-owned KV cache.</summary>
public sealed class CausalSelfAttention : nn.Module
{
    readonly int _heads, _headDim;
    readonly double _dropout;
    public Linear q_proj, k_proj, v_proj, o_proj;

    public CausalSelfAttention(StagFormerConfig c) : base(nameof(CausalSelfAttention))
    {
        _heads = c.Heads; _headDim = c.HeadDim; _dropout = c.Dropout;
        q_proj = nn.Linear(c.DModel, c.DModel, hasBias: false);
        k_proj = nn.Linear(c.DModel, c.DModel, hasBias: false);
        v_proj = nn.Linear(c.DModel, c.DModel, hasBias: false);
        o_proj = nn.Linear(c.DModel, c.DModel, hasBias: false);
        RegisterComponents();
    }

    internal Tensor SplitHeads(Tensor x) => x.view(x.shape[0], x.shape[1], _heads, _headDim).transpose(1, 2);   // (B, T, d) → (B, H, T, D)

    /// <param name="x">normed input (B, T, d) at positions [start, start+T)</param>
    /// <param name="cache">when given, K/V are appended to it and the query attends to everything cached</param>
    public Tensor Forward(Tensor x, int start, RotaryEmbedding? rope, KVCache? cache)
    {
        using var scope = torch.NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        var q = SplitHeads(q_proj.forward(x));
        var k = SplitHeads(k_proj.forward(x));
        var v = SplitHeads(v_proj.forward(x));
        if (rope != null) { q = rope.Apply(q, start); k = rope.Apply(k, start); }
        if (cache != null)
        {
            if (cache.Length != start)
                throw new InvalidOperationException($"self-attention cache holds {cache.Length} positions but the input starts at {start}");
            cache.Append(k, v);
            (k, v) = cache.Contents();                                                   // (B, H, start+T, D)
        }
        double p = training ? _dropout : 0.0;
        Tensor y;
        if (t == 1) y = nn.functional.scaled_dot_product_attention(q, k, v, p: p);          // one query sees every key
        else if (k.shape[2] == t) y = nn.functional.scaled_dot_product_attention(q, k, v, p: p, is_casual: true);
        else
        {
            var mask = torch.ones(t, k.shape[2], dtype: ScalarType.Bool, device: x.device).tril(start);   // k ≤ start + i
            y = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask: mask, p: p);
        }
        y = y.transpose(1, 2).reshape(b, t, -1);                                          // (B, T, d)
        return o_proj.forward(y).MoveToOuterDisposeScope();
    }
}
