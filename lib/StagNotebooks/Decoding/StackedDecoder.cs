using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Decoding;

/// <summary>
/// The p stacks of a decode step as one batched computation, on one thread: the parallel path that also works on a
/// single CUDA stream. The stacks' weights are stacked into (p, out, in) tensors (<see cref="StackedWeights"/>) and
/// the residual streams of all stacks are one (p, B, d) tensor; each layer is one call of the model's own
/// <see cref="TransformerBlock.Step"/> over them, so each projection of a step is one bmm over the p stacks' rows,
/// self-attention one SDPA over p·B rows (every pass's self KV is one folded storage per layer in
/// <see cref="StagCache"/>), and every norm and RoPE one call for all stacks. Stack 1 has no cross-attention: the cross
/// sublayer runs over a view of stacks 2..p's rows. After the step, stacks 1..p−1's outputs become the memory of
/// stacks 2..p in one projection. Shared weights are the special case where the p slices are one tensor (one matmul
/// over p·B rows, the weight read once). Prefill is the teacher-forced pass, stacks in sequence.
/// Activation capture (<see cref="ActivationObservers"/>) is not recorded by this engine; hooks (<see cref="ModelHooks"/>)
/// are: a hook on pass s sees and replaces row s of the (p, B, …) step tensors, as (B, 1, …).
/// </summary>
public sealed class StackedDecoder : IDecodingEngine
{
    public StagFormerModel Model { get; }
    public string Name => "stacked";
    readonly StackedWeights _weights;
    readonly BlockStepShape _shape;

    internal StackedDecoder(StagFormerModel model)
    {
        var c = model.Config;
        if (c.Stacks > 1 && c.CrossLag == 0)
            throw new ArgumentException("the stacked engine needs staggered cross-attention (CrossLag = 1): with CrossLag = 0 stack s waits for stack s−1 at the same position");
        Model = model;
        _weights = new StackedWeights(model);
        _shape = BlockStepShape.Of(model);
    }

    /// <summary>The stacked weights (a copy of the model's separate weights; unfolded shared ones alias the model's).</summary>
    public StackedWeights Weights => _weights;

    public IDecodeSession Start(long batch, int? capacity = null) => new Session(this, batch, capacity);

    public void Dispose() => _weights.Dispose();

    sealed class Session(StackedDecoder engine, long batch, int? capacity) : DecodeSession(engine.Model, batch, capacity)
    {
        protected override Tensor StepAt(Tensor tokens, int pos)
        {
            var w = engine._weights;
            int p = Passes;
            var x = Model.Embed(tokens, pos).view(1, Batch, -1).expand(p, -1, -1);             // (p, B, d): every stack reads E
            for (int l = 0; l < w.Layers.Count; l++)
                x = TransformerBlock.Step(x, pos, l, w.Layers[l], Caches(l), engine._shape);  // (p, B, d)
            var logits = StagFormerModel.HookStepLogits(Model.Head(Model.CombineStacked(x)), pos);   // (B, V)
            if (p > 1) w.Memory!.AppendStep(Cache.FoldedCross, HookedMemory(x.narrow(0, 0, p - 1), pos), pos);   // stacks 1..p−1 → memory of 2..p
            return logits;
        }

        /// <summary>Rows (p−1, B, d) of passes 0..p−2 as the memory of passes 1..p−1, after their hook_memory hooks (a copy when hooked).</summary>
        static Tensor HookedMemory(Tensor below, int pos)
        {
            if (ModelHooks.Current is not { } hooks) return below;
            var memory = below.clone();
            hooks.ApplyToRows(memory, 1, static (p, _) => HookNames.Memory(p), 0, pos);
            return memory;
        }

        BlockStepCaches Caches(int l) => new(Cache.FoldedSelf[l], Passes > 1 ? Cache.FoldedCross[l] : null, CrossFrom: 1);
    }
}
