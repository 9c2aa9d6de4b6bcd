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
/// pass per token cross-attends to the model's own previous final outputs. One pass of h layers per token, but
/// the model was trained with pass-1 memory, so its outputs drift from the two-pass model's.
/// </summary>
public sealed class RecurrentDecoder : IDecodingEngine
{
    public StagFormerModel Model { get; }
    public RecurrentPrefill PrefillMode { get; }
    public string Name => PrefillMode == RecurrentPrefill.TwoPass ? "recurrent" : "recurrent-selfprefill";

    public RecurrentDecoder(StagFormerModel model, RecurrentPrefill prefill = RecurrentPrefill.TwoPass)
    {
        var c = model.Config;
        if (c.Weights != WeightSharing.Shared || c.Stacks != 2)
            throw new ArgumentException("recurrent decoding needs a shared-weights StagFormer with 2 passes (Weights = Shared, Stacks = 2)");
        if (c.Combination != StackCombination.LastStack || c.CrossLag != 1)
            throw new ArgumentException("recurrent decoding needs Combination = LastStack and CrossLag = 1");
        Model = model; PrefillMode = prefill;
    }

    public IDecodeSession Start(long batch, int? capacity = null) { Model.eval(); return new Session(this, batch, capacity); }   // decoding never runs dropout

    sealed class Session(RecurrentDecoder engine, long batch, int? capacity) : IDecodeSession
    {
        readonly StagFormerModel _model = engine.Model;
        readonly StagCache _cache = engine.Model.NewCache(batch, capacity);
        readonly MemoryProjector _projector = new(engine.Model, engine.Model.StackFor(1));
        bool _stepped;

        public int Position => _cache.Self[1][0].Length;

        public Tensor Prefill(Tensor tokens)
        {
            if (engine.PrefillMode == RecurrentPrefill.TwoPass)
            {
                if (_stepped) throw new InvalidOperationException("a two-pass prefill must come before recurrent steps");
                using var ng = torch.no_grad();
                return _model.forward(new ModelInput(tokens, Position, _cache)).Logits;
            }
            using var scope = torch.NewDisposeScope();
            var logits = Enumerable.Range(0, (int)tokens.shape[1]).Select(i => Step(tokens.narrow(1, i, 1))).ToArray();
            return torch.stack(logits, 1).MoveToOuterDisposeScope();                        // (B, T, V)
        }

        public Tensor Step(Tensor tokens)
        {
            _stepped = true;
            using var ng = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            int pos = Position;
            var h = _model.PassStep(1, _model.Embed(tokens, pos), pos, _cache);      // (B, 1, d): the final output
            MemoryProjector.Append(_cache.Cross[1], _projector.Project(h, pos));      // …and the memory of the next step
            return _model.Head(h).squeeze(1).MoveToOuterDisposeScope();
        }

        public void Dispose() { _projector.Dispose(); _cache.Dispose(); }
    }
}
