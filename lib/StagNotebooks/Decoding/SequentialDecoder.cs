using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Decoding;

/// <summary>
/// The reference engine: each step runs the stacks one after another through the model's teacher-forced forward
/// on one position (stack s appends stack s−1's fresh output to its cross cache, then masks it out).
/// </summary>
public sealed class SequentialDecoder(StagFormerModel model) : IDecodingEngine
{
    public string Name => "sequential";
    public StagFormerModel Model { get; } = model;

    public IDecodeSession Start(long batch, int? capacity = null) { Model.eval(); return new Session(Model, batch, capacity); }   // decoding never runs dropout

    sealed class Session(StagFormerModel model, long batch, int? capacity) : IDecodeSession
    {
        readonly StagCache _cache = model.NewCache(batch, capacity);
        public int Position => _cache.Position;

        public Tensor Prefill(Tensor tokens)
        {
            using var ng = torch.no_grad();
            return model.forward(new ModelInput(tokens, Position, _cache)).Logits;
        }

        public Tensor Step(Tensor tokens)
        {
            using var ng = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            return model.forward(new ModelInput(tokens, Position, _cache)).Logits.squeeze(1).MoveToOuterDisposeScope();
        }

        public void Dispose() => _cache.Dispose();
    }
}
