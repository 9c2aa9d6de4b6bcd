using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Decoding;

/// <summary>
/// The reference engine: each step runs the stacks one after another through the model's teacher-forced forward
/// on one position (stack s appends stack s−1's fresh output to its cross cache, then masks it out).
/// </summary>
public sealed class SequentialDecoder : IDecodingEngine
{
    internal SequentialDecoder(StagFormerModel model) => Model = model;

    public string Name => "sequential";
    public StagFormerModel Model { get; }

    public IDecodeSession Start(long batch, int? capacity = null) => new Session(Model, batch, capacity);

    public void Dispose() { }   // allocates nothing beyond its sessions

    sealed class Session(StagFormerModel model, long batch, int? capacity) : DecodeSession(model, batch, capacity)
    {
        protected override Tensor StepAt(Tensor tokens, int pos) =>
            Model.forward(new ModelInput(tokens, pos, Cache)).Logits.squeeze(1);
    }
}
