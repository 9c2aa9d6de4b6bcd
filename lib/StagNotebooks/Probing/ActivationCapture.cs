using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Probing;

/// <summary>
/// Records what a forward pass computes, in the spirit of TransformerLens' activation cache: self- and
/// cross-attention probabilities per (pass, layer) and head, and the residual stream after every block of every
/// pass. Start one with <see cref="Start"/> around a forward call on the same thread: it attaches itself as the
/// thread's <see cref="IActivationObserver"/> (see <see cref="ActivationObservers"/>), and the outputs are computed
/// exactly as without it — the probabilities are recomputed beside SDPA, never instead of it.
/// </summary>
public sealed class ActivationCapture : IActivationObserver, IDisposable
{
    readonly IActivationObserver? _previous;
    readonly List<Tensor> _owned = new();

    /// <summary>The capture active on this thread, if any.</summary>
    public static ActivationCapture? Current => ActivationObservers.Current as ActivationCapture;

    public bool RecordsAttention { get; }
    public bool RecordsResiduals { get; }
    /// <summary>The pass now running (the model announces each pass through <see cref="IActivationObserver.BeginPass"/>).</summary>
    public int Pass { get; set; }

    /// <summary>(B, H, T, Tk) softmax over the keys a query may see; rows sum to 1.</summary>
    public Dictionary<(int Pass, int Layer), Tensor> SelfAttention { get; } = new();
    /// <summary>(B, H, T, Tm) over memory positions <see cref="CrossKeyPositions"/>; with a null slot, memory mass + <see cref="CrossNullMass"/> = 1.</summary>
    public Dictionary<(int Pass, int Layer), Tensor> CrossAttention { get; } = new();
    /// <summary>(B, H, T): probability on the learned null slot.</summary>
    public Dictionary<(int Pass, int Layer), Tensor> CrossNullMass { get; } = new();
    public Dictionary<(int Pass, int Layer), long[]> CrossKeyPositions { get; } = new();
    /// <summary>Absolute position of each query row of the recorded tensors.</summary>
    public Dictionary<(int Pass, int Layer), long[]> QueryPositions { get; } = new();
    /// <summary>(B, T, d): the residual stream after block (pass, layer).</summary>
    public Dictionary<(int Pass, int Layer), Tensor> Residuals { get; } = new();

    ActivationCapture(bool attention, bool residuals)
    {
        RecordsAttention = attention; RecordsResiduals = residuals;
        _previous = ActivationObservers.Attach(this);
    }

    public static ActivationCapture Start(bool attention = true, bool residuals = true) => new(attention, residuals);

    /// <summary>Keeps a copy of t beyond the forward pass's dispose scopes; the capture disposes it.</summary>
    internal Tensor Keep(Tensor t)
    {
        using var ng = torch.no_grad();
        var copy = t.detach().clone().DetachFromDisposeScope();
        _owned.Add(copy);
        return copy;
    }

    void IActivationObserver.BeginPass(int pass) => Pass = pass;

    void IActivationObserver.RecordResidual(int layer, Tensor x)
    {
        if (!RecordsResiduals) return;
        Replace(Residuals, (Pass, layer), Keep(x));
    }

    /// <summary>Self-attention probabilities of q (B, H, T, D) over k (B, H, Tk, D), queries at [start, start+T), keys at [0, Tk).</summary>
    void IActivationObserver.RecordSelfAttention(int layer, Tensor q, Tensor k, int start)
    {
        if (!RecordsAttention) return;
        using var scope = torch.NewDisposeScope();
        long t = q.shape[2], tk = k.shape[2];
        var scores = torch.matmul(q, k.transpose(-2, -1)) / Math.Sqrt(q.shape[^1]);
        var visible = torch.ones(t, tk, dtype: ScalarType.Bool, device: q.device).tril(tk - t);
        Replace(SelfAttention, (Pass, layer), Keep(scores.masked_fill(visible.logical_not(), float.NegativeInfinity).softmax(-1)));
        QueryPositions[(Pass, layer)] = Enumerable.Range(start, (int)t).Select(i => (long)i).ToArray();
    }

    /// <summary>
    /// Cross-attention probabilities. k holds the null slot first when <paramref name="hasNull"/>; visible (T, Tk
    /// without the null column) marks the memory a query may see (null = all); rows with nothing visible and no
    /// null slot are zero, as the module outputs zero there.
    /// </summary>
    void IActivationObserver.RecordCrossAttention(int layer, Tensor q, Tensor k, bool hasNull, Tensor? visible, long[] keyPositions, int start)
    {
        if (!RecordsAttention) return;
        using var scope = torch.NewDisposeScope();
        long t = q.shape[2], tk = k.shape[2], tm = tk - (hasNull ? 1 : 0);
        var scores = torch.matmul(q, k.transpose(-2, -1)) / Math.Sqrt(q.shape[^1]);                  // (B, H, T, Tk)
        var allowed = visible ?? torch.ones(t, tm, dtype: ScalarType.Bool, device: q.device);
        if (hasNull) allowed = torch.cat(new[] { torch.ones(t, 1, dtype: ScalarType.Bool, device: q.device), allowed }, 1);
        var rowHasKey = allowed.any(1);                                                               // (T)
        var probs = scores.masked_fill(allowed.logical_not(), float.NegativeInfinity).softmax(-1);
        probs = torch.where(rowHasKey.view(1, 1, t, 1), probs, torch.zeros_like(probs));              // empty rows: 0, not NaN
        Replace(CrossAttention, (Pass, layer), Keep(probs.narrow(-1, tk - tm, tm)));
        if (hasNull) Replace(CrossNullMass, (Pass, layer), Keep(probs.select(-1, 0)));
        CrossKeyPositions[(Pass, layer)] = keyPositions;
        QueryPositions[(Pass, layer)] = Enumerable.Range(start, (int)t).Select(i => (long)i).ToArray();
    }

    static void Replace(Dictionary<(int, int), Tensor> map, (int, int) key, Tensor value) => map[key] = value;

    public void Dispose()
    {
        ActivationObservers.Restore(_previous);
        foreach (var t in _owned) t.Dispose();
        _owned.Clear();
    }
}
