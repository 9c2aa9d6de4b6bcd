using StagNotebooks.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StagNotebooks.Model;

/// <summary>
/// Root-mean-square norm (pre-norm blocks): x / max(rms(x), ε) · weight, computed as normalize(x)·√d·weight —
/// one fused libtorch call instead of five small ones, which matters in a decode step made of tiny ops.
/// </summary>
public sealed class RMSNorm : nn.Module<Tensor, Tensor>
{
    readonly double _eps, _sqrtDim;
    readonly Scalar _sqrtDimScalar;   // made once and held by the module: no Scalar per call (see HeldScalars)
    public Parameter weight;

    public RMSNorm(long dim, double eps, string name = "RMSNorm") : base(name)
    {
        _eps = eps;
        _sqrtDim = Math.Sqrt(dim);
        _sqrtDimScalar = _sqrtDim.ToScalar();
        weight = nn.Parameter(torch.ones(dim));
        RegisterComponents();
    }

    // (…, d) → (…, d); no dispose scope of its own: always called inside its caller's.
    public override Tensor forward(Tensor x) => Direction(x, _eps).mul(weight).mul(_sqrtDimScalar);

    /// <summary>
    /// x / max(‖x‖, ε·√d), (…, d) → (…, d): the norm without √d and its weight, one call. forward(x) = Direction(x)·√d·weight;
    /// a decode step multiplies Direction(x) by a projection with √d·weight folded in (<see cref="FoldInto"/>, scale √d).
    /// </summary>
    public static Tensor Direction(Tensor x, double eps) => nn.functional.normalize(x, p: 2, dim: -1, eps: eps * Math.Sqrt(x.shape[^1]));

    /// <summary>
    /// Projection w (out, d) with this norm's weight folded in, w·diag(scale·weight): with scale √d,
    /// forward(x)·wᵀ = Direction(x)·FoldInto(w, √d)ᵀ up to rounding. A new tensor.
    /// </summary>
    public Tensor FoldInto(Tensor w, double scale = 1.0) => w * (scale == 1.0 ? weight : weight.Times(scale)).unsqueeze(0);
}
