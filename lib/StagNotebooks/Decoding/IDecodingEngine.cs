using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Decoding;

/// <summary>
/// A decoding engine: prefill a prompt, then one position per step. All engines return the same logits (up to float
/// tolerance) as the model's teacher-forced forward; they differ only in how a step's passes are scheduled. An engine
/// owns what it allocates (e.g. stacked or folded weights) and frees it on <see cref="IDisposable.Dispose"/>; made by
/// <see cref="EngineKinds.Create"/>.
/// </summary>
public interface IDecodingEngine : IDisposable
{
    string Name { get; }
    StagFormerModel Model { get; }
    /// <summary>Starts a session for a batch of sequences; the session owns its caches. Puts the model in eval mode.</summary>
    IDecodeSession Start(long batch, int? capacity = null);
}

public interface IDecodeSession : IDisposable
{
    /// <summary>Positions processed so far (the position of the next token).</summary>
    int Position { get; }
    /// <summary>Processes tokens (B, T) at positions [Position, Position+T); returns their logits (B, T, V).</summary>
    Tensor Prefill(Tensor tokens);
    /// <summary>Processes one token per sequence (B, 1) at Position; returns its logits (B, V).</summary>
    Tensor Step(Tensor tokens);
    /// <summary>Forgets positions ≥ <paramref name="length"/> (speculative decoding rolls back rejected tokens).</summary>
    void Truncate(int length);
    /// <summary>Where steps record when their pieces ran (<see cref="StepTimeline"/>); null (the default): nothing is recorded.</summary>
    StepTimeline? Timeline { get; set; }
}

/// <summary>
/// Implemented by sessions that run a step on several threads: the tensors created along the step's critical path
/// (the caller's own work plus the busiest stack), the op count a latency model charges for.
/// </summary>
public interface ICriticalPathStatistics
{
    long LastStepCriticalPathTensors { get; }
}
