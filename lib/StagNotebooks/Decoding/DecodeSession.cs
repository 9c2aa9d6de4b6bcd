using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Decoding;

/// <summary>
/// What every engine's session shares: the caches (one <see cref="StagCache"/>), the position, and the
/// teacher-forced prefill (the passes one after another through the model's forward, as in training). An engine
/// only says how a step's passes are scheduled (<see cref="StepAt"/>). The model is put in eval mode: decoding never
/// runs dropout.
/// </summary>
public abstract class DecodeSession : IDecodeSession
{
    protected StagFormerModel Model { get; }
    protected StagCache Cache { get; }
    protected long Batch { get; }
    protected int Passes => Model.Config.Stacks;
    bool _stepped;

    protected DecodeSession(StagFormerModel model, long batch, int? capacity)
    {
        Model = model;
        model.eval();
        Batch = batch;
        Cache = model.NewCache(batch, capacity);
    }

    /// <summary>Positions processed so far: the one definition every engine uses.</summary>
    public int Position { get; private set; }

    /// <summary>Whether a step ran since the session started.</summary>
    protected bool Stepped => _stepped;

    public virtual Tensor Prefill(Tensor tokens)
    {
        Settle();
        Cache.Align(Position);
        Tensor logits;
        using (torch.no_grad()) logits = Model.forward(new ModelInput(tokens, Position, Cache)).Logits;   // (B, T, V)
        Position += (int)tokens.shape[1];
        Cache.Align(Position);
        return logits;
    }

    public StepTimeline? Timeline { get; set; }

    public Tensor Step(Tensor tokens)
    {
        if (Position >= Cache.Capacity) throw new InvalidOperationException($"KV cache full: position {Position} reaches the capacity {Cache.Capacity}");
        _stepped = true;
        long start = Timeline is null ? 0 : StepTimeline.Now();
        using var ng = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var logits = StepAt(tokens, Position);                                              // (B, V)
        Timeline?.Add(Position, StepTimeline.StepLane, "step", start, StepTimeline.Now());
        Position++;
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>One token per sequence (B, 1) at <paramref name="pos"/> → logits (B, V), inside Step's dispose scope and no_grad.</summary>
    protected abstract Tensor StepAt(Tensor tokens, int pos);

    public virtual void Truncate(int length)
    {
        Settle();
        Cache.Align(Position);
        Cache.Truncate(length);
        Position = length;
        Cache.Align(Position);
    }

    /// <summary>Puts whatever a step left pending into the caches, so the per-pass caches hold every position.</summary>
    protected virtual void Settle() { }

    /// <summary>Frees what the engine's session made besides the caches.</summary>
    protected virtual void DisposeOwned() { }

    public void Dispose()
    {
        DisposeOwned();
        Cache.Dispose();
    }
}
