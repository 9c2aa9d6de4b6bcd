using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Probing;

/// <summary>Linear centered kernel alignment between two sets of representations of the same inputs (Kornblith et al. 2019).</summary>
public static class Cka
{
    /// <summary>CKA of x (n, d1) and y (n, d2): 1 for representations equal up to rotation and scale, 0 for unrelated ones.</summary>
    public static double Linear(Tensor x, Tensor y)
    {
        using var ng = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var xc = x.to(ScalarType.Float64) - x.to(ScalarType.Float64).mean(new long[] { 0 }, keepdim: true);
        var yc = y.to(ScalarType.Float64) - y.to(ScalarType.Float64).mean(new long[] { 0 }, keepdim: true);
        double cross = torch.matmul(yc.t(), xc).pow(2).sum().item<double>();
        double xx = torch.matmul(xc.t(), xc).pow(2).sum().sqrt().item<double>();
        double yy = torch.matmul(yc.t(), yc).pow(2).sum().sqrt().item<double>();
        return cross / (xx * yy);
    }

    /// <summary>Layer-by-layer CKA between the residual streams of two passes (rows: layers of passA, columns: of passB).</summary>
    public static double[,] BetweenPasses(ActivationCapture capture, int passA, int passB)
    {
        var a = capture.Residuals.Where(kv => kv.Key.Pass == passA).OrderBy(kv => kv.Key.Layer).Select(kv => kv.Value).ToArray();
        var b = capture.Residuals.Where(kv => kv.Key.Pass == passB).OrderBy(kv => kv.Key.Layer).Select(kv => kv.Value).ToArray();
        if (a.Length == 0 || b.Length == 0) throw new ArgumentException($"no residuals captured for pass {(a.Length == 0 ? passA : passB)}");
        var m = new double[a.Length, b.Length];
        for (int i = 0; i < a.Length; i++)
            for (int j = 0; j < b.Length; j++)
                m[i, j] = Linear(a[i].reshape(-1, a[i].shape[^1]), b[j].reshape(-1, b[j].shape[^1]));
        return m;
    }
}
