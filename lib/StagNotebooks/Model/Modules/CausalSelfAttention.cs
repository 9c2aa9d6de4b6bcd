using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StagNotebooks.Model;

/// <summary>Multi-head causal self-attention over a stack's own stream (SDPA), with an optional caller-owned KV cache.</summary>
public sealed class CausalSelfAttention : nn.Module
{
    readonly int _heads, _headDim;
    readonly double _dropout;
    public Linear qkv_proj, o_proj;   // Q, K, V fused into one (3d × d) projection: one call per step instead of three

    public CausalSelfAttention(StagFormerConfig c) : base(nameof(CausalSelfAttention))
    {
        _heads = c.Heads; _headDim = c.HeadDim; _dropout = c.Dropout;
        qkv_proj = nn.Linear(c.DModel, 3 * c.DModel, hasBias: false);
        o_proj = nn.Linear(c.DModel, c.DModel, hasBias: false);
        RegisterComponents();
    }

    /// <param name="x">normed input (B, T, d) at positions [start, start+T)</param>
    /// <param name="cache">when given, K/V are appended to it and the query attends to everything cached</param>
    /// <param name="site">the block's hooks when any are attached: its attn.hook_pattern point (<see cref="HookNames.AttnPattern"/>)</param>
    public Tensor Forward(Tensor x, int start, RotaryEmbedding? rope, KVCache? cache, int layer = 0, HookSite? site = null)
    {
        using var scope = torch.NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        var qkv = t == 1
            ? qkv_proj.forward(x).view(b, 3 * _heads, 1, _headDim)                          // one position: the transpose is a no-op
            : qkv_proj.forward(x).view(b, t, 3 * _heads, _headDim).transpose(1, 2);         // (B, 3H, T, D)
        var qk = qkv.narrow(1, 0, 2 * _heads);
        if (rope != null) qk = rope.Apply(qk, start);                                     // q and k rotated in one call
        var q = qk.narrow(1, 0, _heads);
        var k = qk.narrow(1, _heads, _heads);
        var v = qkv.narrow(1, 2 * _heads, _heads);
        if (cache != null)
        {
            if (cache.Length != start)
                throw new InvalidOperationException($"self-attention cache holds {cache.Length} positions but the input starts at {start}");
            cache.Append(k, v);
            (k, v) = cache.Contents();                                                   // (B, H, start+T, D)
        }
        ActivationObservers.Current?.RecordSelfAttention(layer, q, k, start);
        double p = training ? _dropout : 0.0;
        Tensor y;
        if (t == 1) y = nn.functional.scaled_dot_product_attention(q, k, v, p: p);          // one query sees every key
        else if (k.shape[2] == t) y = nn.functional.scaled_dot_product_attention(q, k, v, p: p, is_casual: true);
        else
        {
            var mask = torch.ones(t, k.shape[2], dtype: ScalarType.Bool, device: x.device).tril(start);   // k ≤ start + i
            y = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask: mask, p: p);
        }
        if (site is not null && site.Set.Wants(HookNames.AttnPattern(site.Pass, layer))) y = HookedPattern(site.Set, HookNames.AttnPattern(site.Pass, layer), start, q, k, v) ?? y;
        y = t == 1 ? y.view(b, 1, -1) : y.transpose(1, 2).reshape(b, t, -1);              // (B, T, d)
        return o_proj.forward(y).MoveToOuterDisposeScope();
    }

    /// <summary>The attn.hook_pattern point: causal weights (B, H, T, start+T) of q over k shown to the hooks; with a replacement p', p'·V (B, H, T, D), else null.</summary>
    static Tensor? HookedPattern(HookSet hooks, string name, int start, Tensor q, Tensor k, Tensor v)
    {
        var visible = torch.ones(q.shape[2], k.shape[2], dtype: ScalarType.Bool, device: q.device).tril(start);   // key k ≤ start + i
        var r = AttentionPatternHook.Replace(hooks, name, AttentionPatternHook.Probabilities(q, k, visible), start);
        return r is null ? null : torch.matmul(r, v);
    }
}
