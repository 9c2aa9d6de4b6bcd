using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Model;

/// <summary>
/// K/V buffers of one attention layer for a folded batch: (N, H, Reserved + Capacity, D). Allocated once, outside
/// any dispose scope, and written in place each step. A ring storage keeps only the last <c>Capacity</c> positions
/// (windowed cross-attention: constant memory and cost per step). <c>Reserved</c> leading slots hold fixed entries
/// — the learned null slot of cross-attention — so a decode step attends to one contiguous buffer.
/// </summary>
public sealed class KVStorage : IDisposable
{
    public Tensor K { get; }
    public Tensor V { get; }
    public int Capacity { get; }
    public bool IsRing { get; }
    public int Reserved { get; }

    public KVStorage(long batch, long heads, int capacity, long headDim, bool ring, ScalarType dtype, Device device, int reserved = 0)
    {
        Capacity = capacity;
        IsRing = ring;
        Reserved = reserved;
        K = torch.zeros(new[] { batch, heads, reserved + capacity, headDim }, dtype: dtype, device: device).DetachFromDisposeScope();
        V = torch.zeros(new[] { batch, heads, reserved + capacity, headDim }, dtype: dtype, device: device).DetachFromDisposeScope();
    }

    public long Bytes => 2 * K.NumberOfElements * K.ElementSize;

    readonly List<Tensor> _views = new();

    /// <summary>K and V of batch rows [b0, b0+n): made once per cache view (a decode step then slices only positions).</summary>
    internal (Tensor K, Tensor V) BatchViews(long b0, long n)
    {
        var k = K.narrow(0, b0, n).DetachFromDisposeScope();
        var v = V.narrow(0, b0, n).DetachFromDisposeScope();
        lock (_views) { _views.Add(k); _views.Add(v); }
        return (k, v);
    }

    public void Dispose()
    {
        foreach (var t in _views) t.Dispose();
        K.Dispose(); V.Dispose();
    }
}

/// <summary>
/// A batch range of a <see cref="KVStorage"/> and how many positions were appended to it. Positions start at 0;
/// in a ring, slot j holds the newest position p with p mod Capacity = j (K is stored after RoPE, so slot order
/// does not matter to attention).
/// </summary>
public sealed class KVCache
{
    readonly KVStorage _storage;
    readonly long _b0, _nb;
    readonly Tensor _k, _v;   // (nb, H, Reserved + Capacity, D) views of the storage

    /// <summary>Positions appended so far (a ring holds only the last Capacity of them).</summary>
    public int Length { get; private set; }

    public KVCache(KVStorage storage, long batchStart, long batchCount, int length = 0)
    {
        _storage = storage; _b0 = batchStart; _nb = batchCount; Length = length;
        (_k, _v) = storage.BatchViews(batchStart, batchCount);
    }

    public KVStorage Storage => _storage;
    public bool IsRing => _storage.IsRing;
    /// <summary>Entries currently held.</summary>
    public int Count => Math.Min(Length, _storage.Capacity);

    /// <summary>A view of the same storage over another batch range, e.g. all passes of a shared-weights model at once.</summary>
    public KVCache Over(long batchStart, long batchCount) => new(_storage, batchStart, batchCount, Length);

    /// <summary>Appends k, v (nb, H, T, D) at positions [Length, Length+T).</summary>
    public void Append(Tensor k, Tensor v)
    {
        int t = (int)k.shape[2];
        int cap = _storage.Capacity;
        if (!IsRing)
        {
            if (Length + t > cap)
                throw new InvalidOperationException($"KV cache full: {Length} + {t} positions exceed the capacity {cap} (the model's MaxContext)");
            Write(k, v, srcStart: 0, slot: Length, count: t);
        }
        else
        {
            // Only the last `cap` of the new positions survive; write them in at most two contiguous runs.
            int skip = Math.Max(0, t - cap);
            int pos = Length + skip, left = t - skip, src = skip;
            while (left > 0)
            {
                int slot = pos % cap, run = Math.Min(left, cap - slot);
                Write(k, v, src, slot, run);
                pos += run; src += run; left -= run;
            }
        }
        Length += t;
    }

    void Write(Tensor k, Tensor v, int srcStart, int slot, int count)
    {
        using var kdst = _k.narrow(2, _storage.Reserved + slot, count);
        using var vdst = _v.narrow(2, _storage.Reserved + slot, count);
        if (srcStart == 0 && count == k.shape[2]) { kdst.copy_(k); vdst.copy_(v); return; }
        using var ks = k.narrow(2, srcStart, count);
        using var vs = v.narrow(2, srcStart, count);
        kdst.copy_(ks); vdst.copy_(vs);
    }

    /// <summary>Forgets positions ≥ <paramref name="length"/> (speculative decoding rolls back rejected tokens).</summary>
    public void Truncate(int length)
    {
        if (IsRing) throw new InvalidOperationException("a ring cache (windowed cross-attention) cannot be rolled back: its old entries are overwritten");
        if (length < 0 || length > Length) throw new ArgumentOutOfRangeException(nameof(length), $"cannot truncate a cache of {Length} positions to {length}");
        Length = length;
    }

    /// <summary>
    /// Sets the positions held to <paramref name="length"/> without writing: another view of the same storage (the
    /// folded views of <see cref="StagCache"/>) appended them. Keeps a session's views of one storage in agreement.
    /// </summary>
    public void SetLength(int length)
    {
        if (length < 0 || (!IsRing && length > _storage.Capacity))
            throw new ArgumentOutOfRangeException(nameof(length), $"a cache of capacity {_storage.Capacity} cannot hold {length} positions");
        Length = length;
    }

    /// <summary>The held entries (nb, H, Count, D), as views (valid until the next Append).</summary>
    public (Tensor K, Tensor V) Contents() => Slots(_storage.Reserved, Count);

    /// <summary>The reserved entries followed by the held ones (nb, H, Reserved + Count, D).</summary>
    public (Tensor K, Tensor V) ContentsWithReserved() => Slots(0, _storage.Reserved + Count);

    (Tensor K, Tensor V) Slots(int first, int count) => (_k.narrow(2, first, count), _v.narrow(2, first, count));

    /// <summary>Fills reserved slot <paramref name="slot"/> with k, v (broadcast to (nb, H, 1, D)).</summary>
    public void WriteReserved(int slot, Tensor k, Tensor v)
    {
        if (slot >= _storage.Reserved) throw new ArgumentOutOfRangeException(nameof(slot), $"the storage reserves {_storage.Reserved} slot(s)");
        using var kdst = _k.narrow(2, slot, 1);
        using var vdst = _v.narrow(2, slot, 1);
        using var ng = torch.no_grad();
        kdst.copy_(k.expand_as(kdst));
        vdst.copy_(v.expand_as(vdst));
    }

    /// <summary>Absolute position of each held entry, in slot order.</summary>
    public long[] Positions()
    {
        int n = Count, cap = _storage.Capacity;
        var p = new long[n];
        for (int j = 0; j < n; j++)
            p[j] = IsRing && Length > cap ? Length - 1 - ((Length - 1 - j) % cap + cap) % cap : j;
        return p;
    }
}
