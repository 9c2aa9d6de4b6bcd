using StagNotebooks.Model;
using TorchSharp;

namespace StagNotebooks.Reporting;

/// <summary>Attention masks as pictures, drawn from the model's own rule (<see cref="StaggeredCrossAttention.VisibleKeys"/>).</summary>
public static class MaskPicture
{
    /// <summary>Which key positions each query position may use: 1 = visible. Lag 0 without a window is the causal self-attention mask.</summary>
    public static double[][] Visible(int length, int lag, int? window)
    {
        using var scope = torch.NewDisposeScope();
        var positions = torch.arange(length, dtype: torch.ScalarType.Int64);
        var visible = StaggeredCrossAttention.VisibleKeys(positions, positions, lag, window).to(torch.ScalarType.Float64);
        var flat = visible.data<double>().ToArray();
        return Enumerable.Range(0, length).Select(i => flat.AsSpan(i * length, length).ToArray()).ToArray();
    }
}
