using StagNotebooks.Runtime;
using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Decoding;

/// <summary>
/// One projection of all p stacks in one call. Separate weights: the stacks' matrices stacked into (p, out, in) and
/// applied to rows (p, B, in) by one <c>bmm</c> (one kernel, each stack's rows against its own slice). Shared weights:
/// the p slices are one (out, in) matrix, applied by one matmul over the p·B rows (the weight is read once).
/// The weight lives where the model's weights live, in their dtype.
/// </summary>
public sealed class StackedLinear : IDisposable
{
    readonly Tensor _weight;    // (p, out, in) or (out, in)
    readonly Tensor _t;         // (p, in, out) or (in, out): a transposed view, made once
    public bool Shared { get; }
    public long Slices => Shared ? 1 : _weight.shape[0];
    public long Elements => _weight.NumberOfElements;

    /// <param name="slices">per stack (out, in); all the same tensor (shared weights) gives one 2-D weight</param>
    public StackedLinear(IReadOnlyList<Tensor> slices, bool shared)
    {
        using var scope = torch.NewDisposeScope();
        Shared = shared;
        _weight = shared ? slices[0].contiguous() : torch.stack(slices, 0);   // shared: aliases the parameter (or its folded copy)
        _t = shared ? _weight.t() : _weight.transpose(1, 2);
        _weight.DetachFromDisposeScope(); _t.DetachFromDisposeScope();
    }

    public Tensor Weight => _weight;

    /// <summary>x (p, B, in) → (p, B, out).</summary>
    public Tensor Forward(Tensor x) => Shared ? x.matmul(_t) : x.bmm(_t);

    /// <summary>residual + x·Wᵀ, out of place (one fused call for separate weights).</summary>
    public Tensor ForwardAdd(Tensor residual, Tensor x) =>
        Shared ? residual.Plus(x.matmul(_t)) : BaddbmmRotated ? x.baddbmm(_t, residual) : residual.baddbmm(x, _t);

    /// <summary>
    /// TorchSharp 0.107's <c>a.baddbmm(b, c)</c> computes c + a·b (the native call takes its arguments rotated),
    /// not a + b·c as documented. Probed once on 1×1×1 tensors, so a fixed TorchSharp keeps working.
    /// </summary>
    static readonly bool BaddbmmRotated = ProbeBaddbmm();

    static bool ProbeBaddbmm()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.full(1, 1, 1, 2f); var b = torch.full(1, 1, 1, 3f); var c = torch.full(1, 1, 1, 5f);
        return a.baddbmm(b, c).item<float>() == 5f + 2f * 3f;   // rotated: c + a·b = 11; documented: a + b·c = 17
    }

    /// <summary>residual += x·Wᵀ, in place (residual may be a view of a larger tensor).</summary>
    public void AddInPlace(Tensor residual, Tensor x)
    {
        using var y = Forward(x);   // TorchSharp 0.107 has no baddbmm_
        residual.PlusInPlace(y);
    }

    public void Dispose() { _t.Dispose(); _weight.Dispose(); }
}

/// <summary>The stacked weights of one layer index l across the p stacks (cross-attention: stacks 2..p only).</summary>
public sealed class StackedLayer : IDisposable
{
    public required StackedLinear Qkv { get; init; }        // attn_norm weight and √d folded in
    public required StackedLinear AttnOut { get; init; }
    public StackedLinear? CrossQ { get; init; }             // cross_norm weight and √d folded in; p−1 slices
    public StackedLinear? CrossOut { get; init; }
    public required StackedLinear GateUp { get; init; }     // GeGLU: [gate; up] (2F × d), else up; ffn_norm folded in
    public required StackedLinear Down { get; init; }

    public void Dispose()
    {
        Qkv.Dispose(); AttnOut.Dispose(); CrossQ?.Dispose(); CrossOut?.Dispose(); GateUp.Dispose(); Down.Dispose();
    }
}

/// <summary>
/// The p stacks' per-layer weights, stacked for the stacked engine. Each pre-norm RMSNorm weight (and its √d) is
/// folded into the projection that reads it, RMSNorm(x)·Wᵀ = normalize(x)·(W·diag(√d·w))ᵀ, so a norm costs one
/// call for all stacks. <see cref="MemoryKv"/> projects stacks 1..p−1's outputs into the cross K/V of every layer of
/// stacks 2..p in one call (the memory norms folded in, as in <see cref="MemoryProjector"/>).
/// A snapshot taken when made: decoding sessions only, not training.
/// </summary>
public sealed class StackedWeights : IDisposable
{
    public IReadOnlyList<StackedLayer> Layers { get; }
    /// <summary>(p−1, h·2d, d): slice s−1 makes stack s+1's cross K/V from stack s's output; null when p = 1.</summary>
    public StackedLinear? MemoryKv { get; }
    public bool Shared { get; }

    public StackedWeights(StagFormerModel model)
    {
        var c = model.Config;
        int p = c.Stacks, h = c.LayersPerStack;
        Shared = c.Weights == WeightSharing.Shared;
        double sqrtD = Math.Sqrt(c.DModel);   // folded in too: the engine normalizes with normalize(x) alone
        using var ng = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        StackedLinear Stack(IEnumerable<int> stacks, Func<LayerStack, Tensor> pick) =>
            new(stacks.Select(s => pick(model.StackFor(s))).ToArray(), Shared);
        var all = Enumerable.Range(0, p).ToArray();
        var upper = Enumerable.Range(1, p - 1).ToArray();
        Layers = Enumerable.Range(0, h).Select(l => new StackedLayer
        {
            Qkv = Stack(all, st => st.layers[l].FoldedQkvWeight(sqrtD)),
            AttnOut = Stack(all, st => st.layers[l].AttnOutWeight),
            CrossQ = p > 1 ? Stack(upper, st => st.cross_layers[l].FoldedQueryWeight(sqrtD)) : null,
            CrossOut = p > 1 ? Stack(upper, st => st.cross_layers[l].OutWeight) : null,
            GateUp = Stack(all, st => st.layers[l].FoldedGateUpWeight(sqrtD)),
            Down = Stack(all, st => st.layers[l].DownWeight),
        }).ToArray();
        if (p > 1)
            MemoryKv = Stack(upper, st => torch.cat(st.cross_layers.Select(cl => cl.cross_attn.FoldedMemoryKvWeight(sqrtD)).ToArray(), 0));
    }

    /// <summary>Weight elements one step reads (each stacked tensor once).</summary>
    public long Elements => Layers.Sum(l => l.Qkv.Elements + l.AttnOut.Elements + (l.CrossQ?.Elements ?? 0) + (l.CrossOut?.Elements ?? 0)
                                             + l.GateUp.Elements + l.Down.Elements) + (MemoryKv?.Elements ?? 0);

    public void Dispose()
    {
        foreach (var l in Layers) l.Dispose();
        MemoryKv?.Dispose();
    }
}
