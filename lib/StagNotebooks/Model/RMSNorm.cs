using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StagNotebooks.Model;

/// <summary>Root-mean-square layer norm (pre-norm blocks): x / rms(x) · weight.</summary>
public sealed class RMSNorm : nn.Module<Tensor, Tensor>
{
    readonly double _eps;
    public Parameter weight;

    public RMSNorm(long dim, double eps, string name = "RMSNorm") : base(name)
    {
        _eps = eps;
        weight = nn.Parameter(torch.ones(dim));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)   // (…, d)
    {
        using var scope = torch.NewDisposeScope();
        var rms = x.pow(2).mean(new long[] { -1 }, keepdim: true).add(_eps).rsqrt();
        return (x * rms * weight).MoveToOuterDisposeScope();
    }
}
