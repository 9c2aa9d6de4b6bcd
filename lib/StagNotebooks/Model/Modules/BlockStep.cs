using StagNotebooks.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Model;

/// <summary>
/// The projections of one block's decode step for n stacks at once, rows (n, B, in) → (n, B, out): slice s of a
/// (n, out, in) weight for stack s, or one (out, in) weight for all (shared weights, or n = 1). Each pre-norm
/// weight (and √d) is folded into the projection that reads the norm, so the inputs called <c>normed</c> are
/// <see cref="RMSNorm.Direction"/> of the residual; cross-attention's gate is folded into its output projection.
/// </summary>
public interface IBlockStepWeights
{
    /// <summary>normed (n, B, d) → [q; k; v] (n, B, 3d).</summary>
    Tensor Qkv(Tensor normed);
    /// <summary>residual (n, B, d) + y·W_oᵀ, a fresh tensor.</summary>
    Tensor AttnOut(Tensor residual, Tensor y);
    /// <summary>normed rows of the stacks with cross-attention (n_c, B, d) → queries (n_c, B, d).</summary>
    Tensor CrossQuery(Tensor normed);
    /// <summary>residual (n_c, B, d, possibly a view of a larger tensor) += y·(W_o·diag(tanh g))ᵀ, in place.</summary>
    void AddCrossOut(Tensor residual, Tensor y);
    /// <summary>normed (n, B, d) → GeGLU [gate; up] (n, B, 2F), else up (n, B, F).</summary>
    Tensor GateUp(Tensor normed);
    /// <summary>residual (n, B, d) + hidden·W_downᵀ, a fresh tensor.</summary>
    Tensor Down(Tensor residual, Tensor hidden);
}

/// <summary>
/// The caches one block's step reads and appends to: <paramref name="Self"/> over the n stacks' rows (n·B),
/// <paramref name="Cross"/> over the rows of stacks <paramref name="CrossFrom"/>..n−1 (null: no stack of the call has
/// cross-attention). The cross cache must already hold the memory of positions ≤ pos−1 (lag 1).
/// </summary>
public sealed record BlockStepCaches(KVCache Self, KVCache? Cross = null, int CrossFrom = 0);

/// <summary>What a block's step needs from the config: head layout, FFN kind, norm ε, RoPE (null: learned positions).</summary>
public sealed record BlockStepShape(int Heads, int HeadDim, int FfnHidden, bool GeGLU, double NormEps, RotaryEmbedding? Rope)
{
    public static BlockStepShape Of(StagFormerModel model)
    {
        var c = model.Config;
        return new(c.Heads, c.HeadDim, c.FfnHidden, c.Ffn == FfnKind.GeGLU, c.NormEps, model.rope);
    }

    internal Tensor Rotate(Tensor x, int pos) => Rope is null ? x : Rope.ApplyStep(x, pos);
}

public sealed partial class TransformerBlock
{
    /// <summary>
    /// One decode step of block <paramref name="layer"/> for n stacks at once (every engine's step computes here):
    /// x (n, B, d), every stack's residual stream at <paramref name="pos"/> → (n, B, d), a fresh tensor.
    /// x + SelfAttn(norm x); rows of stacks with cross-attention + CrossAttn(norm x, cache); x + FFN(norm x) — the
    /// maths of <see cref="Forward"/> on one position, over weights the caller supplies (one stack's, or p stacks'
    /// stacked into (p, out, in) tensors). No dropout (decoding runs in eval mode). Runs inside the caller's
    /// dispose scope and no_grad. Row i of x is pass <paramref name="firstPass"/> + i: the attached hooks
    /// (<see cref="ModelHooks"/>) of that pass see and replace that row, as (B, 1, …) at Start = <paramref name="pos"/>.
    /// </summary>
    public static Tensor Step(Tensor x, int pos, int layer, IBlockStepWeights w, BlockStepCaches caches, BlockStepShape shape, int firstPass = 0)
    {
        var hooks = ModelHooks.Current;
        x = SelfAttentionStep(x, pos, w, caches.Self, shape, hooks is null ? null : new HookSite(hooks, firstPass, layer));
        if (caches.Cross is { } cross)
        {
            long n = x.shape[0];
            var upper = caches.CrossFrom == 0 ? x : x.narrow(0, caches.CrossFrom, n - caches.CrossFrom);   // a view of x
            var site = hooks is null ? null : new HookSite(hooks, firstPass + caches.CrossFrom, layer);
            CrossAttentionStep(upper, pos, w, cross, shape, site);
        }
        var gu = w.GateUp(RMSNorm.Direction(x, shape.NormEps));                          // (n, B, 2F) or (n, B, F)
        var hidden = shape.GeGLU
            ? nn.functional.gelu(gu.narrow(-1, 0, shape.FfnHidden)) * gu.narrow(-1, shape.FfnHidden, shape.FfnHidden)
            : nn.functional.gelu(gu);
        x = w.Down(x, hidden);
        if (x.shape[0] == 1) ActivationObservers.Current?.RecordResidual(layer, x.transpose(0, 1));   // (B, 1, d), as Forward records
        hooks?.ApplyToRows(x, firstPass, static (p, l) => HookNames.ResidPost(p, l), layer, pos);
        return x;
    }

    /// <summary>x + SelfAttn(norm x) for n stacks: one projection, one RoPE, one SDPA over the n·B rows (with hooks: each row's attn.hook_pattern).</summary>
    static Tensor SelfAttentionStep(Tensor x, int pos, IBlockStepWeights w, KVCache self, BlockStepShape s, HookSite? site)
    {
        long n = x.shape[0], b = x.shape[1], d = x.shape[2], h = s.Heads;
        var qkv = w.Qkv(RMSNorm.Direction(x, s.NormEps)).view(n * b, 3 * h, 1, s.HeadDim);   // (n·B, 3H, 1, D)
        var qk = s.Rotate(qkv.narrow(1, 0, 2 * h), pos);                                     // q and k rotated in one call
        if (self.Length != pos) throw new InvalidOperationException($"self-attention cache holds {self.Length} positions but the step is at {pos}");
        self.Append(qk.narrow(1, h, h), qkv.narrow(1, 2 * h, h));
        var (k, v) = self.Contents();                                                        // (n·B, H, pos+1, D)
        var y = nn.functional.scaled_dot_product_attention(qk.narrow(1, 0, h), k, v);         // one query sees every key
        if (site is not null) PatternRows(site, pos, static (p, l) => HookNames.AttnPattern(p, l), qk.narrow(1, 0, h), k, v, y, n, b, emptyColumn: false);
        return w.AttnOut(x, y.view(n, b, d));
    }

    /// <summary>
    /// upper += CrossAttn(norm upper) in place, upper (n_c, B, d) a view of the residual. The cache holds exactly the
    /// visible memory (positions ≤ pos−1, the last w in a ring), the learned null slot in its reserved slot: no mask.
    /// Without a null slot and with no memory yet, the output is zero (nothing is added). With hooks
    /// (<paramref name="site"/>: its Pass is row 0's), each row's hook_z and hook_out see and replace that row (zeros
    /// in that case, as the forward shows them).
    /// </summary>
    static void CrossAttentionStep(Tensor upper, int pos, IBlockStepWeights w, KVCache cross, BlockStepShape s, HookSite? site)
    {
        if (cross.Length != pos)
            throw new InvalidOperationException($"staggered step at position {pos} needs memory up to {pos - 1}, the cross cache holds {cross.Length} positions");
        bool nullSlot = cross.Storage.Reserved > 0, empty = !nullSlot && cross.Count == 0;
        if (empty && site is null) return;
        long n = upper.shape[0], b = upper.shape[1], d = upper.shape[2];
        Tensor y;                                                                            // (n_c·B, H, 1, D)
        if (empty)
        {
            y = torch.zeros(n * b, s.Heads, 1, s.HeadDim, dtype: upper.dtype, device: upper.device);
            if (site is not null) EmptyPatternRows(site, pos, n, b, s.Heads, upper);
        }
        else
        {
            var q = s.Rotate(w.CrossQuery(RMSNorm.Direction(upper, s.NormEps)).view(n * b, s.Heads, 1, s.HeadDim), pos);   // (n_c·B, H, 1, D)
            var (k, v) = nullSlot ? cross.ContentsWithReserved() : cross.Contents();
            y = nn.functional.scaled_dot_product_attention(q, k, v);
            if (site is not null) PatternRows(site, pos, static (p, l) => HookNames.CrossPattern(p, l), q, k, v, y, n, b, emptyColumn: !nullSlot);
        }
        if (site is null) { w.AddCrossOut(upper, y.view(n, b, d)); return; }
        site.Set.ApplyToRows(y.view(n, b, s.Heads, s.HeadDim), site.Pass, static (p, l) => HookNames.CrossZ(p, l), site.Layer, pos);
        var added = torch.zeros_like(upper);
        w.AddCrossOut(added, y.view(n, b, d));                                                // 0 + y·W_oᵀ: exactly what the fused path adds
        site.Set.ApplyToRows(added, site.Pass, static (p, l) => HookNames.CrossOut(p, l), site.Layer, pos);
        upper.PlusInPlace(added);
    }

    /// <summary>
    /// A step's attention-pattern hook points (<see cref="HookNames.AttnPattern"/>, <see cref="HookNames.CrossPattern"/>):
    /// for each row (pass <c>site.Pass</c> + i) whose point a hook wants, the weights softmax(q·kᵀ/√D) of its one query
    /// over the keys the step's cache holds, shown as (B, 1, H, K) at <paramref name="pos"/>: for self-attention every
    /// position ≤ pos, as the sequential engine shows it; for cross-attention the null slot, then the visible memory in
    /// the cache's order (without a null slot: a leading column for the empty row, 0 here), where the sequential engine
    /// also shows its cache's invisible keys at 0. A replacement p' makes that
    /// row's heads' outputs p'·V, written into <paramref name="y"/> in place; rows no hook replaces keep SDPA's output,
    /// bit for bit. q (n·B, H, 1, D), k and v (n·B, H, K, D), y (n·B, H, 1, D).
    /// </summary>
    static void PatternRows(HookSite site, int pos, Func<int, int, string> name, Tensor q, Tensor k, Tensor v, Tensor y, long n, long b, bool emptyColumn)
    {
        Tensor? probs = null;
        for (int i = 0; i < n; i++)
        {
            var point = name(site.Pass + i, site.Layer);
            if (!site.Set.Wants(point)) continue;
            probs ??= AttentionPatternHook.Probabilities(q, k, null);                          // (n·B, H, 1, K)
            long heads = probs.shape[1], keys = probs.shape[3], dim = v.shape[3];
            var row = probs.view(n, b, heads, 1, keys).select(0, i);                            // (B, H, 1, K)
            var shown = emptyColumn ? torch.cat(new[] { torch.zeros(b, heads, 1, 1, dtype: row.dtype, device: row.device), row }, 3) : row;
            if (AttentionPatternHook.Replace(site.Set, point, shown, pos) is not { } r) continue;
            var weights = emptyColumn ? r.narrow(3, 1, keys) : r;                                 // the empty column's value is zero
            y.view(n, b, heads, 1, dim).select(0, i).copy_(torch.matmul(weights, v.view(n, b, heads, keys, dim).select(0, i)));
        }
    }

    /// <summary>Cross-attention before any memory, without a null slot: each wanted row's pattern is all weight on the empty column (B, 1, H, 1); its output stays zero.</summary>
    static void EmptyPatternRows(HookSite site, int pos, long n, long b, int heads, Tensor like)
    {
        for (int i = 0; i < n; i++)
        {
            var point = HookNames.CrossPattern(site.Pass + i, site.Layer);
            if (site.Set.Wants(point)) AttentionPatternHook.Replace(site.Set, point, torch.ones(b, heads, 1, 1, dtype: like.dtype, device: like.device), pos);
        }
    }
}
