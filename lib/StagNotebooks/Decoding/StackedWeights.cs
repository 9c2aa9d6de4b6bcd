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

/// <summary>
/// The weights of one layer index l across the stacks of a call, as <see cref="TransformerBlock.Step"/> reads them
/// (cross-attention: the stacks of the call that have it).
/// </summary>
public sealed class StackedLayer : IBlockStepWeights, IDisposable
{
    public required StackedLinear Qkv { get; init; }        // attn_norm weight and √d folded in
    public required StackedLinear AttnOut { get; init; }
    public StackedLinear? CrossQ { get; init; }             // cross_norm weight and √d folded in; stacks with cross-attention only
    public StackedLinear? CrossOut { get; init; }           // the gate folded in
    public required StackedLinear GateUp { get; init; }     // GeGLU: [gate; up] (2F × d), else up; ffn_norm folded in
    public required StackedLinear Down { get; init; }

    Tensor IBlockStepWeights.Qkv(Tensor normed) => Qkv.Forward(normed);
    Tensor IBlockStepWeights.AttnOut(Tensor residual, Tensor y) => AttnOut.ForwardAdd(residual, y);
    Tensor IBlockStepWeights.CrossQuery(Tensor normed) => CrossQ!.Forward(normed);
    void IBlockStepWeights.AddCrossOut(Tensor residual, Tensor y) => CrossOut!.AddInPlace(residual, y);
    Tensor IBlockStepWeights.GateUp(Tensor normed) => GateUp.Forward(normed);
    Tensor IBlockStepWeights.Down(Tensor residual, Tensor hidden) => Down.ForwardAdd(residual, hidden);

    public void Dispose()
    {
        Qkv.Dispose(); AttnOut.Dispose(); CrossQ?.Dispose(); CrossOut?.Dispose(); GateUp.Dispose(); Down.Dispose();
    }
}

/// <summary>
/// The per-layer weights of some passes of the model, for <see cref="TransformerBlock.Step"/> over those passes at
/// once: each projection's p slices stacked into one (p, out, in) tensor (<see cref="StackedLinear"/>; shared weights,
/// or a single pass, give one (out, in) matrix), the norms folded in (<see cref="FoldedWeights"/>).
/// <see cref="Memory"/> projects the outputs of the stacks below the passes that have cross-attention into their
/// cross K/V. A snapshot taken when made: decoding only, not training.
/// </summary>
public sealed class StackedWeights : IDisposable
{
    public IReadOnlyList<StackedLayer> Layers { get; }
    /// <summary>The passes, in row order of a step over them.</summary>
    public IReadOnlyList<int> Passes { get; }
    /// <summary>Row of the first pass with cross-attention (pass ≥ 1), or −1 when none has it.</summary>
    public int CrossFrom { get; }
    /// <summary>Into the cross caches of the passes ≥ 1 (null when none).</summary>
    public MemoryProjector? Memory { get; }
    /// <summary>(p_c, h·2d, d), or (h·2d, d) shared: slice j makes the j-th cross pass's K/V from the output below it.</summary>
    public StackedLinear? MemoryKv => Memory?.Kv;
    public bool Shared { get; }

    /// <param name="passes">the passes a step runs at once (default: all p, in order)</param>
    public StackedWeights(StagFormerModel model, IReadOnlyList<int>? passes = null)
    {
        var c = model.Config;
        Passes = passes ?? Enumerable.Range(0, c.Stacks).ToArray();
        var upper = Passes.Where(s => s > 0).ToArray();
        CrossFrom = upper.Length == 0 ? -1 : Passes.ToList().IndexOf(upper[0]);
        if (upper.Length > 0 && Passes.Skip(CrossFrom).Any(s => s == 0)) throw new ArgumentException("pass 0 (no cross-attention) must come before the others", nameof(passes));
        Shared = c.Weights == WeightSharing.Shared || Passes.Count == 1;
        using var ng = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        Layers = Enumerable.Range(0, c.LayersPerStack).Select(l => Layer(model, l, upper)).ToArray();
        if (upper.Length > 0) Memory = new MemoryProjector(model, upper);
    }

    StackedLayer Layer(StagFormerModel model, int l, int[] upper)
    {
        StackedLinear Stack(IReadOnlyList<int> stacks, Func<LayerStack, Tensor> pick) =>
            new(stacks.Select(s => pick(model.StackFor(s))).ToArray(), Shared || stacks.Count == 1);
        return new StackedLayer
        {
            Qkv = Stack(Passes, st => FoldedWeights.Qkv(st.layers[l])),
            AttnOut = Stack(Passes, st => FoldedWeights.AttnOut(st.layers[l])),
            CrossQ = upper.Length > 0 ? Stack(upper, st => FoldedWeights.CrossQuery(st.cross_layers[l])) : null,
            CrossOut = upper.Length > 0 ? Stack(upper, st => FoldedWeights.CrossOut(st.cross_layers[l])) : null,
            GateUp = Stack(Passes, st => FoldedWeights.GateUp(st.layers[l])),
            Down = Stack(Passes, st => FoldedWeights.Down(st.layers[l])),
        };
    }

    /// <summary>Weight elements one step reads (each stacked tensor once).</summary>
    public long Elements => Layers.Sum(l => l.Qkv.Elements + l.AttnOut.Elements + (l.CrossQ?.Elements ?? 0) + (l.CrossOut?.Elements ?? 0)
                                             + l.GateUp.Elements + l.Down.Elements) + (MemoryKv?.Elements ?? 0);

    public void Dispose()
    {
        foreach (var l in Layers) l.Dispose();
        Memory?.Dispose();
    }
}
