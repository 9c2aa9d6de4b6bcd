using StagNotebooks.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StagNotebooks.Model;

/// <summary>
/// Cross-attention from stack s to the final output M of stack s−1, staggered in time: the query at position i sees
/// memory positions k with i−lag−w+1 ≤ k ≤ i−lag (lag 1 = the paper; window w optional). Memory is normed by its
/// own RMSNorm, then projected; RoPE is applied to queries at i and keys at k, so the lag is visible to the heads.
/// </summary>
public sealed class StaggeredCrossAttention : nn.Module
{
    readonly int _heads, _headDim, _lag;
    readonly int? _window;
    readonly double _dropout;
    readonly EmptyCrossAttention _empty;
    public RMSNorm memory_norm;
    public Linear q_proj, kv_proj, o_proj;   // K and V of the memory fused into one (2d × d) projection
    public Parameter? null_key, null_value;   // (1, H, 1, D): the learned slot every query may attend to
    public Parameter? cross_gate;             // (1) or (H): tanh(g) scales the output, g starts at 0 (CrossGateKind); 1-D, so not decayed

    public StaggeredCrossAttention(StagFormerConfig c) : base(nameof(StaggeredCrossAttention))
    {
        _heads = c.Heads; _headDim = c.HeadDim; _lag = c.CrossLag; _window = c.CrossWindow; _dropout = c.Dropout; _empty = c.EmptyCross;
        memory_norm = new RMSNorm(c.DModel, c.NormEps);
        q_proj = nn.Linear(c.DModel, c.DModel, hasBias: false);
        kv_proj = nn.Linear(c.DModel, 2 * c.DModel, hasBias: false);
        o_proj = nn.Linear(c.DModel, c.DModel, hasBias: false);
        if (_empty == EmptyCrossAttention.NullSlot)
        {
            null_key = nn.Parameter(torch.randn(1, _heads, 1, _headDim) * 0.02);
            null_value = nn.Parameter(torch.zeros(1, _heads, 1, _headDim));
        }
        if (c.CrossGate != CrossGateKind.None)
            cross_gate = nn.Parameter(torch.zeros(c.CrossGate == CrossGateKind.PerHead ? _heads : 1));
        RegisterComponents();
    }

    /// <summary>Heads' outputs y (B, H, T, D) scaled by the gate tanh(g) (one per layer or per head); y itself without a gate.</summary>
    Tensor Gate(Tensor y) => cross_gate is null ? y : y * cross_gate.tanh().view(1, -1, 1, 1).to(y.dtype);

    Tensor SplitHeads(Tensor x) => x.view(x.shape[0], x.shape[1], _heads, _headDim).transpose(1, 2);   // (B, T, d) → (B, H, T, D)

    /// <summary>Keys and values of memory m (B, Tm, d) at positions [start, start+Tm): what a cross cache stores.</summary>
    public (Tensor K, Tensor V) ProjectMemory(Tensor m, int start, RotaryEmbedding? rope)
    {
        using var scope = torch.NewDisposeScope();
        var kv = kv_proj.forward(memory_norm.forward(m)).view(m.shape[0], m.shape[1], 2 * _heads, _headDim).transpose(1, 2);   // (B, 2H, Tm, D)
        var k = kv.narrow(1, 0, _heads);
        var v = kv.narrow(1, _heads, _heads);
        if (rope != null) k = rope.Apply(k, start);
        return (k.MoveToOuterDisposeScope(), v.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Training, prefill and the sequential engine: queries x (B, T, d) and the memory for the same
    /// positions [start, start+T). With a cache, attends to the cached memory plus the new chunk, then appends it.
    /// </summary>
    public Tensor Forward(Tensor x, int start, Tensor memory, RotaryEmbedding? rope, KVCache? cache, int layer = 0, HookSite? site = null)
    {
        using var scope = torch.NewDisposeScope();
        long t = x.shape[1];
        var (newK, newV) = ProjectMemory(memory, start, rope);
        var (k, v) = (newK, newV);
        Tensor keyPos = torch.arange(start, start + t, dtype: ScalarType.Int64, device: x.device);
        if (cache != null)
        {
            if (cache.Length != start)
                throw new InvalidOperationException($"cross-attention cache holds {cache.Length} positions but the memory starts at {start}");
            if (cache.Count > 0)
            {
                var (ck, cv) = cache.Contents();
                keyPos = torch.cat(new[] { torch.tensor(cache.Positions(), device: x.device), keyPos });
                k = torch.cat(new[] { ck, k }, 2);
                v = torch.cat(new[] { cv, v }, 2);
            }
            cache.Append(newK, newV);   // after the concatenation above copied what a ring slot may overwrite
        }
        var queryPos = torch.arange(start, start + t, dtype: ScalarType.Int64, device: x.device);
        var visible = VisibleKeys(queryPos, keyPos, _lag, _window);                        // (T, Tk)
        var y = Attend(x, start, k, v, visible, rope, layer, keyPos, site);                       // (B, T, d)
        ActivationObservers.Current?.RecordCrossOutput(layer, y);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The staggering rule: query position i may use memory key position k iff k ≤ i − lag (lag 1: strictly past;
    /// 0: the non-staggered control) and, with a window w, k &gt; i − lag − w. (T) × (Tk) positions → (T, Tk) bools.
    /// The mask pictures of the notebooks are drawn from this function.
    /// </summary>
    public static Tensor VisibleKeys(Tensor queryPos, Tensor keyPos, int lag, int? window)
    {
        var visible = keyPos.unsqueeze(0) <= queryPos.unsqueeze(1).Minus(lag);
        if (window is int w) visible = visible & (keyPos.unsqueeze(0) > queryPos.unsqueeze(1).Minus(lag + w));
        return visible;
    }

    /// <summary>Writes the learned null key/value into the cache's reserved slot (once per decoding session).</summary>
    public void InitializeNullSlot(KVCache cache)
    {
        if (null_key is null || cache.Storage.Reserved == 0) return;
        cache.WriteReserved(0, null_key, null_value!);
    }

    /// <summary>
    /// The hook_pattern point: the weights (B, H, T, K') of q (B, H, T, D) over keys k (B, H, K', D) (the null slot
    /// first when there is one; without, column 0 is an empty row's zero value) shown to the hooks; with a replacement
    /// p', the heads' outputs p'·[null value; V] (B, H, T, D), else null (SDPA's output stands).
    /// </summary>
    Tensor? HookedPattern(HookSet hooks, string name, int start, Tensor q, Tensor k, Tensor v, Tensor? visible, Tensor? rowHasKey)
    {
        var probs = AttentionPatternHook.Probabilities(q, k, visible);                         // (B, H, T, K')
        long b = probs.shape[0], t = probs.shape[2];
        if (_empty != EmptyCrossAttention.NullSlot)
        {
            var has = rowHasKey ?? torch.ones(t, dtype: ScalarType.Bool, device: probs.device);     // (T)
            var empty = has.logical_not().to(probs.dtype).view(1, 1, t, 1).expand(b, _heads, t, 1);
            probs = torch.cat(new[] { empty, probs * has.to(probs.dtype).view(1, 1, t, 1) }, 3);   // (B, H, T, 1+K)
        }
        var r = AttentionPatternHook.Replace(hooks, name, probs, start);
        if (r is null) return null;
        return _empty == EmptyCrossAttention.NullSlot ? torch.matmul(r, v) : torch.matmul(r.narrow(3, 1, v.shape[2]), v);   // the zero value adds nothing
    }

    Tensor Attend(Tensor x, int start, Tensor k, Tensor v, Tensor? visible, RotaryEmbedding? rope, int layer, Tensor? keyPos, HookSite? site)
    {
        var observer = ActivationObservers.Current;
        var memoryVisible = visible;
        long b = x.shape[0], t = x.shape[1];
        var q = SplitHeads(q_proj.forward(x));
        if (rope != null) q = rope.Apply(q, start);
        double p = training ? _dropout : 0.0;
        Tensor? rowHasKey = null;
        if (_empty == EmptyCrossAttention.NullSlot)
        {
            k = torch.cat(new[] { null_key!.expand(b, -1, -1, -1).to(k.dtype), k }, 2);
            v = torch.cat(new[] { null_value!.expand(b, -1, -1, -1).to(v.dtype), v }, 2);
            if (visible is not null) visible = torch.cat(new[] { torch.ones(t, 1, dtype: ScalarType.Bool, device: x.device), visible }, 1);
        }
        else
        {
            if (k.shape[2] == 0) return torch.zeros(b, t, x.shape[2], dtype: x.dtype, device: x.device);
            if (visible is not null)
            {
                // Softmax over an empty set is NaN: give empty rows every key, then zero their output.
                rowHasKey = visible.any(1);                                               // (T)
                visible = visible | rowHasKey.logical_not().unsqueeze(1);
            }
        }
        observer?.RecordCrossAttention(layer, q, k, _empty == EmptyCrossAttention.NullSlot, memoryVisible,
            keyPos!.data<long>().ToArray(), start);
        var y = visible is null
            ? nn.functional.scaled_dot_product_attention(q, k, v, p: p)
            : nn.functional.scaled_dot_product_attention(q, k, v, attn_mask: visible, p: p);   // (B, H, T, D)
        if (rowHasKey is not null) y = y * rowHasKey.view(1, 1, t, 1).to(y.dtype);
        if (site is not null && site.Set.Wants(HookNames.CrossPattern(site.Pass, layer)))
            y = HookedPattern(site.Set, HookNames.CrossPattern(site.Pass, layer), start, q, k, v, visible, rowHasKey) ?? y;
        if (site is not null) y = site.Set.Apply(HookNames.CrossZ(site.Pass, layer), y.transpose(1, 2), start).transpose(1, 2);   // (B, T, H, D), before the gate as in a step
        return o_proj.forward(Gate(y).transpose(1, 2).reshape(b, t, -1));
    }
}
