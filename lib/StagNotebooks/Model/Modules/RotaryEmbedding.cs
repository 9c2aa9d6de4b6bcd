using StagNotebooks.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Model;

/// <summary>
/// Rotary position embedding (rotate-half convention): x·cos + rotate_half(x)·sin, where rotate_half is a product
/// with a constant signed permutation (one call instead of split/negate/concatenate). The tables are derived state,
/// not parameters: kept out of the state dict (no Tensor fields, which TorchSharp would register and save) and
/// copied to a device the first time an input there needs them.
/// </summary>
public sealed class RotaryEmbedding : nn.Module
{
    sealed record Tables(Tensor Cos, Tensor Sin, Tensor RotateHalf)   // (MaxContext, D), (MaxContext, D), (D, D)
    {
        // One-position rows, made on first use: a decode step then slices nothing. Filled under a lock: decoding
        // engines call from several threads, and two threads filling one slot would leak a tensor or read a torn pair.
        readonly (Tensor Cos, Tensor Sin)?[] _rows = new (Tensor, Tensor)?[Cos.shape[0]];
        readonly Tensor?[] _matrices = new Tensor?[Cos.shape[0]];

        public (Tensor Cos, Tensor Sin) Row(int position)
        {
            lock (_rows)
            {
                if (_rows[position] is { } r) return r;
                var row = (Cos.narrow(0, position, 1).DetachFromDisposeScope(), Sin.narrow(0, position, 1).DetachFromDisposeScope());
                _rows[position] = row;
                return row;
            }
        }

        /// <summary>
        /// M (D, D) with rope(x, t) = x·M: rotation is linear, M = diag(cos_t) + R·diag(sin_t). Made on first use, so a
        /// decode step rotates with one matmul instead of four calls.
        /// </summary>
        public Tensor Matrix(int position)
        {
            lock (_matrices)
            {
                if (_matrices[position] is { } m) return m;
                using var scope = torch.NewDisposeScope();
                var (cos, sin) = Row(position);                                                    // (1, D) each
                m = (torch.diag(cos.squeeze(0)) + RotateHalf * sin).DetachFromDisposeScope();       // (D, D)
                _matrices[position] = m;
                return m;
            }
        }

        /// <summary>Test view: how many rows have been made.</summary>
        public int RowsMade { get { lock (_rows) return _rows.Count(r => r is not null); } }
    }

    readonly Dictionary<string, Tables> _tables = new();
    readonly object _gate = new();
    readonly int _headDim, _maxContext;
    readonly double _theta;

    public RotaryEmbedding(int headDim, int maxContext, double theta) : base(nameof(RotaryEmbedding))
    {
        _headDim = headDim; _maxContext = maxContext; _theta = theta;
    }

    Tables For(Device device, ScalarType dtype)
    {
        var key = $"{device}/{dtype}";
        lock (_gate)   // decoding engines call from several threads
        {
            if (_tables.TryGetValue(key, out var t)) return t;
            using var scope = torch.NewDisposeScope();
            int half = _headDim / 2;
            var invFreq = torch.pow(_theta, -torch.arange(0, _headDim, 2, dtype: ScalarType.Float64) / _headDim);   // (D/2)
            var angles = torch.outer(torch.arange(_maxContext, dtype: ScalarType.Float64), invFreq);               // (T, D/2)
            var full = torch.cat(new[] { angles, angles }, -1);                                                   // (T, D)
            // x @ R = [−x2, x1]: R[j+half, j] = −1, R[j, j+half] = 1.
            var r = torch.zeros(_headDim, _headDim, dtype: ScalarType.Float64);
            for (int j = 0; j < half; j++) { r[j + half, j] = -1; r[j, j + half] = 1; }
            t = new Tables(full.cos().to(dtype, device).DetachFromDisposeScope(), full.sin().to(dtype, device).DetachFromDisposeScope(),
                           r.to(dtype, device).DetachFromDisposeScope());
            _tables[key] = t;
            return t;
        }
    }

    /// <summary>Test view: one-position rows made so far, over every device and dtype.</summary>
    internal int RowsMade { get { lock (_gate) return _tables.Values.Sum(t => t.RowsMade); } }

    /// <summary>Rotates x (…, 1, D) as position <paramref name="pos"/>: x·M[pos], one call (a decode step's RoPE).</summary>
    public Tensor ApplyStep(Tensor x, int pos) => x.matmul(For(x.device, x.dtype).Matrix(pos));

    /// <summary>Rotates x (…, T, D) as positions [start, start+T).</summary>
    public Tensor Apply(Tensor x, int start)
    {
        long t = x.shape[^2];
        var tables = For(x.device, x.dtype);
        if (t == 1)
        {
            var (cosRow, sinRow) = tables.Row(start);
            return (x * cosRow).Plus(x.matmul(tables.RotateHalf) * sinRow);
        }
        using var cos = tables.Cos.narrow(0, start, t);
        using var sin = tables.Sin.narrow(0, start, t);
        return (x * cos).Plus(x.matmul(tables.RotateHalf) * sin);
    }
}
