using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Decoding;

/// <summary>
/// Shared weights, parallel by batching: the p passes of one step go through the one set of weights as a
/// batch of p·B rows (one weight read per step instead of p). Rows of pass 1 skip the cross-attention; passes
/// 2..p read their cross caches, which are folded into one batch too.
/// </summary>
public sealed class BatchedSharedDecoder : IDecodingEngine
{
    public StagFormerModel Model { get; }
    public string Name => "batched";

    public BatchedSharedDecoder(StagFormerModel model)
    {
        var c = model.Config;
        if (c.Weights != WeightSharing.Shared || c.Stacks < 2)
            throw new ArgumentException("the batched engine needs a shared-weights StagFormer (Weights = Shared, Stacks ≥ 2)");
        if (c.CrossLag == 0) throw new ArgumentException("the batched engine needs staggered cross-attention (CrossLag = 1)");
        Model = model;
    }

    public IDecodeSession Start(long batch, int? capacity = null) { Model.eval(); return new Session(Model, batch, capacity); }   // decoding never runs dropout

    sealed class Session(StagFormerModel model, long batch, int? capacity) : IDecodeSession
    {
        readonly StagCache _cache = model.NewCache(batch, capacity);
        readonly MemoryProjector _projector = new(model, model.StackFor(1));
        IReadOnlyList<KVCache>? _self, _cross;   // all passes at once; created after the prefill

        public int Position => _self?[0].Length ?? _cache.Position;

        public Tensor Prefill(Tensor tokens)
        {
            if (_self != null) throw new InvalidOperationException("prefill after decoding steps is not supported by the batched engine");
            using var ng = torch.no_grad();
            return model.forward(new ModelInput(tokens, Position, _cache)).Logits;
        }

        public Tensor Step(Tensor tokens)
        {
            using var ng = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            _self ??= _cache.AllPassesSelf();
            _cross ??= _cache.AllPassesCross();
            int p = model.Config.Stacks, pos = Position;
            var e = model.Embed(tokens, pos);                                          // (B, 1, d)
            var h = model.StepFoldedPasses(e, pos, _self, _cross);                     // (p·B, 1, d)
            var outs = h.chunk(p, 0);                                                  // p × (B, 1, d)
            var logits = model.Head(model.Combine(outs)).squeeze(1);
            // Passes 1..p−1 at pos become the memory of passes 2..p, in one projection per layer.
            MemoryProjector.Append(_cross, _projector.Project(h.narrow(0, 0, (p - 1) * batch), pos));
            return logits.MoveToOuterDisposeScope();
        }

        public void Dispose() { _projector.Dispose(); _cache.Dispose(); }
    }
}
