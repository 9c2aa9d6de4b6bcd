using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Model;

/// <summary>
/// Every KV cache of one decoding session, owned by the caller and threaded through the model's forward.
/// Per layer one self-attention storage holds all passes folded into the batch (pass s = rows [s·B, (s+1)·B)),
/// and one cross-attention storage holds passes 2..p; <see cref="Self"/>[pass][layer] and
/// <see cref="Cross"/>[pass][layer] are views of them. The folding lets a shared-weights engine run all passes
/// as one batch over the same buffers: <see cref="FoldedSelf"/> and <see cref="FoldedCross"/> are those views (the stacked
/// engine appends through them; <see cref="Align"/> brings every view to one length). The cross cache grows by one memory position per step (a ring of w
/// entries when the cross-attention is windowed).
/// </summary>
public sealed class StagCache : IDisposable
{
    readonly KVStorage[] _self, _cross;

    public int Passes { get; }
    public int Layers { get; }
    public long Batch { get; }
    public int Capacity { get; }
    public IReadOnlyList<IReadOnlyList<KVCache>> Self { get; }
    public IReadOnlyList<IReadOnlyList<KVCache>> Cross { get; }
    /// <summary>Per layer, one view over all passes' self rows (p·B).</summary>
    public IReadOnlyList<KVCache> FoldedSelf { get; }
    /// <summary>Per layer, one view over passes 2..p's cross rows ((p−1)·B); empty when p = 1.</summary>
    public IReadOnlyList<KVCache> FoldedCross { get; }

    public StagCache(StagFormerConfig c, long batch, Device device, ScalarType dtype = ScalarType.Float32, int? capacity = null)
    {
        Passes = c.Stacks; Layers = c.LayersPerStack; Batch = batch;
        Capacity = capacity ?? c.MaxContext;
        if (Capacity > c.MaxContext) throw new ArgumentException($"cache capacity {Capacity} exceeds MaxContext {c.MaxContext}");
        int crossCap = c.CrossWindow is int w && w < Capacity ? w : Capacity;
        bool ring = crossCap < Capacity;
        _self = Enumerable.Range(0, Layers).Select(_ => new KVStorage(Passes * batch, c.Heads, Capacity, c.HeadDim, false, dtype, device)).ToArray();
        int reserved = c.EmptyCross == EmptyCrossAttention.NullSlot ? 1 : 0;   // slot 0: the learned null key/value
        _cross = Passes > 1
            ? Enumerable.Range(0, Layers).Select(_ => new KVStorage((Passes - 1) * batch, c.Heads, crossCap, c.HeadDim, ring, dtype, device, reserved)).ToArray()
            : Array.Empty<KVStorage>();
        Self = Enumerable.Range(0, Passes)
            .Select(s => (IReadOnlyList<KVCache>)_self.Select(st => new KVCache(st, s * batch, batch)).ToArray()).ToArray();
        Cross = Enumerable.Range(0, Passes)
            .Select(s => (IReadOnlyList<KVCache>)(s == 0 ? Array.Empty<KVCache>() : _cross.Select(st => new KVCache(st, (s - 1) * batch, batch)).ToArray()))
            .ToArray();
        FoldedSelf = _self.Select(st => new KVCache(st, 0, Passes * batch)).ToArray();
        FoldedCross = _cross.Select(st => new KVCache(st, 0, (Passes - 1) * batch)).ToArray();
    }

    /// <summary>Rolls every cache of every pass back to <paramref name="length"/> positions.</summary>
    public void Truncate(int length)
    {
        foreach (var pass in Self) foreach (var c in pass) c.Truncate(length);
        foreach (var pass in Cross) foreach (var c in pass) c.Truncate(length);
    }

    public long SelfBytes => _self.Sum(s => s.Bytes);
    public long CrossBytes => _cross.Sum(s => s.Bytes);

    /// <summary>
    /// Sets every view (per pass and folded, self and cross) to <paramref name="position"/> positions: a session whose
    /// steps appended through one set of views calls it before the other set is read. Writes nothing.
    /// </summary>
    public void Align(int position)
    {
        foreach (var c in Self.SelectMany(p => p).Concat(Cross.SelectMany(p => p)).Concat(FoldedSelf).Concat(FoldedCross)) c.SetLength(position);
    }

    public void Dispose()
    {
        foreach (var s in _self) s.Dispose();
        foreach (var s in _cross) s.Dispose();
    }
}
