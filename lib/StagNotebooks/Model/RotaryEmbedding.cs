using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Model;

/// <summary>
/// Rotary position embedding (rotate-half convention). The cos/sin tables are derived state, not parameters: they
/// are kept out of the state dict (no Tensor fields, which TorchSharp would register and save) and copied to a
/// device the first time an input there needs them.
/// </summary>
public sealed class RotaryEmbedding : nn.Module
{
    readonly Dictionary<string, (Tensor Cos, Tensor Sin)> _tables = new();   // per device: (MaxContext, D) each
    readonly object _gate = new();
    readonly int _headDim, _maxContext;
    readonly double _theta;

    public RotaryEmbedding(int headDim, int maxContext, double theta) : base(nameof(RotaryEmbedding))
    {
        _headDim = headDim; _maxContext = maxContext; _theta = theta;
    }

    (Tensor Cos, Tensor Sin) Tables(Device device)
    {
        var key = device.ToString();
        lock (_gate)   // decoding engines call from several threads
        {
            if (_tables.TryGetValue(key, out var t)) return t;
            using var scope = torch.NewDisposeScope();
            var invFreq = torch.pow(_theta, -torch.arange(0, _headDim, 2, dtype: ScalarType.Float64) / _headDim);   // (D/2)
            var angles = torch.outer(torch.arange(_maxContext, dtype: ScalarType.Float64), invFreq);               // (T, D/2)
            var full = torch.cat(new[] { angles, angles }, -1);                                                   // (T, D)
            t = (full.cos().to(ScalarType.Float32, device).DetachFromDisposeScope(), full.sin().to(ScalarType.Float32, device).DetachFromDisposeScope());
            _tables[key] = t;
            return t;
        }
    }

    /// <summary>Rotates x (B, H, T, D) as positions [start, start+T).</summary>
    public Tensor Apply(Tensor x, int start)
    {
        using var scope = torch.NewDisposeScope();
        long t = x.shape[2], half = x.shape[3] / 2;
        var (cosTable, sinTable) = Tables(x.device);
        var cos = cosTable.narrow(0, start, t).to(x.dtype);
        var sin = sinTable.narrow(0, start, t).to(x.dtype);
        var rotated = torch.cat(new[] { -x.narrow(-1, half, half), x.narrow(-1, 0, half) }, -1);
        return (x * cos + rotated * sin).MoveToOuterDisposeScope();
    }
}
