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
    public override Tensor forward(Tensor x) =>
        nn.functional.normalize(x, p: 2, dim: -1, eps: _eps * _sqrtDim).mul(weight).mul(_sqrtDimScalar);

    /// <summary>forward without the weight, (…, d) → (…, d): the input of a projection the weight is folded into.</summary>
    public Tensor Unweighted(Tensor x) => nn.functional.normalize(x, p: 2, dim: -1, eps: _eps * _sqrtDim).mul(_sqrtDimScalar);

    /// <summary>
    /// Projection w (out, d) with this norm's weight folded in, w·diag(scale·weight): forward(x)·wᵀ =
    /// Unweighted(x)·FoldInto(w)ᵀ up to rounding (scale √d: the input may be normalize(x) alone). A new tensor.
    /// </summary>
    public Tensor FoldInto(Tensor w, double scale = 1.0) => w * (scale == 1.0 ? weight : weight.Times(scale)).unsqueeze(0);
}
