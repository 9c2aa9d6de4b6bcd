using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Decoding;

/// <summary>Whose outputs fill the cross memory at the prompt's positions (the paper does not say).</summary>
public enum RecurrentPrefill
{
    /// <summary>The prompt goes through both passes as in training: the memory holds pass-1 outputs.</summary>
    TwoPass,
    /// <summary>The prompt is decoded recurrently too, token by token: the memory holds the model's own final outputs.</summary>
    Recurrent,
}

/// <summary>
/// Recurrent decoding of a shared-weights 2-pass StagFormer (inference only): pass 1 is skipped; the single
/// pass per token cross-attends to the model's own previous final outputs. One pass of h layers per token (each layer
/// one <see cref="TransformerBlock.Step"/> with the shared stack's weights), but the model was trained with pass-1
/// memory, so its outputs drift from the two-pass model's.
/// </summary>
public sealed class RecurrentDecoder : IDecodingEngine
{
    public StagFormerModel Model { get; }
    public RecurrentPrefill PrefillMode { get; }
    public string Name => PrefillMode == RecurrentPrefill.TwoPass ? "recurrent" : "recurrent-selfprefill";
    readonly StackedWeights _weights;   // pass 2's: the shared stack with its cross-attention
    readonly BlockStepShape _shape;

    internal RecurrentDecoder(StagFormerModel model, RecurrentPrefill prefill = RecurrentPrefill.TwoPass)
    {
        var c = model.Config;
        if (c.Weights != WeightSharing.Shared || c.Stacks != 2)
            throw new ArgumentException("recurrent decoding needs a shared-weights StagFormer with 2 passes (Weights = Shared, Stacks = 2)");
        if (c.Combination != StackCombination.LastStack || c.CrossLag != 1)
            throw new ArgumentException("recurrent decoding needs Combination = LastStack and CrossLag = 1");
        Model = model; PrefillMode = prefill;
        _weights = new StackedWeights(model, new[] { 1 });
        _shape = BlockStepShape.Of(model);
    }

    public IDecodeSession Start(long batch, int? capacity = null) => new Session(this, batch, capacity);

    public void Dispose() => _weights.Dispose();

    sealed class Session(RecurrentDecoder engine, long batch, int? capacity) : DecodeSession(engine.Model, batch, capacity)
    {
        public override Tensor Prefill(Tensor tokens)
        {
            if (engine.PrefillMode == RecurrentPrefill.TwoPass)
            {
                if (Stepped) throw new InvalidOperationException("a two-pass prefill must come before recurrent steps");
                return base.Prefill(tokens);
            }
            using var scope = torch.NewDisposeScope();
            var logits = Enumerable.Range(0, (int)tokens.shape[1]).Select(i => Step(tokens.narrow(1, i, 1))).ToArray();
            return torch.stack(logits, 1).MoveToOuterDisposeScope();                        // (B, T, V)
        }

        protected override Tensor StepAt(Tensor tokens, int pos)
        {
            ActivationObservers.Current?.BeginPass(1);
            var w = engine._weights;
            var x = Model.Embed(tokens, pos).view(1, Batch, -1);                             // (1, B, d)
            for (int l = 0; l < w.Layers.Count; l++)
                x = TransformerBlock.Step(x, pos, l, w.Layers[l], new BlockStepCaches(Cache.Self[1][l], Cache.Cross[1][l]), engine._shape, firstPass: 1);
            w.Memory!.AppendStep(Cache.Cross[1], HookedMemory(x, pos), pos);                 // the final output: the memory of the next step
            return StagFormerModel.HookStepLogits(Model.Head(x).squeeze(0), pos);            // (B, V)
        }

        /// <summary>The output (1, B, d) as the memory pass 1 reads at later steps, after its hook_memory hooks (a copy when hooked).</summary>
        static Tensor HookedMemory(Tensor output, int pos)
        {
            if (ModelHooks.Current is not { } hooks || !hooks.Wants(HookNames.Memory(1))) return output;
            var memory = output.clone();
            hooks.ApplyToRows(memory, 1, static (p, _) => HookNames.Memory(p), 0, pos);
            return memory;
        }
    }
}
