using static TorchSharp.torch;

namespace StagNotebooks.Model;

/// <summary>
/// What the model reports while it computes (hook points in the spirit of TransformerLens): the model calls these
/// on <see cref="ActivationObservers.Current"/> and never changes its outputs for them. Tensors are views inside the
/// forward pass's dispose scopes: an observer that keeps one must copy it.
/// </summary>
public interface IActivationObserver
{
    /// <summary>Pass <paramref name="pass"/> (0-based) starts: the records that follow belong to it.</summary>
    void BeginPass(int pass);

    /// <summary>x (B, T, d): the residual stream after block <paramref name="layer"/>.</summary>
    void RecordResidual(int layer, Tensor x);

    /// <summary>q (B, H, T, D) at positions [start, start+T) and k (B, H, Tk, D) at positions [0, Tk), causal.</summary>
    void RecordSelfAttention(int layer, Tensor q, Tensor k, int start);

    /// <summary>
    /// q (B, H, T, D) at positions [start, start+T); k (B, H, Tk, D), the learned null slot first when
    /// <paramref name="hasNull"/>; <paramref name="visible"/> (T, Tk without the null column) marks the memory a
    /// query may see (null: all); <paramref name="keyPositions"/> are the memory keys' positions.
    /// </summary>
    void RecordCrossAttention(int layer, Tensor q, Tensor k, bool hasNull, Tensor? visible, long[] keyPositions, int start);

    /// <summary>y (B, T, d): what cross-attention of block <paramref name="layer"/> adds to the residual stream (teacher-forced forward).</summary>
    void RecordCrossOutput(int layer, Tensor y) { }
}

/// <summary>
/// The observer of the current thread. Thread-static, so a capture sees only the forward calls of the thread that
/// attached it (the parallel engine's stack threads are not observed) and needs no locks.
/// </summary>
public static class ActivationObservers
{
    [ThreadStatic] static IActivationObserver? _current;

    /// <summary>The observer attached on this thread, if any: one thread-static read per hook when there is none.</summary>
    public static IActivationObserver? Current => _current;

    /// <summary>Makes <paramref name="observer"/> this thread's observer; returns the one it replaces, for <see cref="Restore"/>.</summary>
    public static IActivationObserver? Attach(IActivationObserver observer)
    {
        var previous = _current;
        _current = observer;
        return previous;
    }

    /// <summary>Puts back the observer <see cref="Attach"/> replaced (null: none).</summary>
    public static void Restore(IActivationObserver? previous) => _current = previous;
}
