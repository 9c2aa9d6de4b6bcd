using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StagNotebooks.Model;

/// <summary>Position-wise FFN: gated GeGLU (the paper-scale default: three d×F matrices) or plain GELU (two).</summary>
public sealed class FeedForward : nn.Module<Tensor, Tensor>
{
    readonly FfnKind _kind;
    public Linear? gate_proj;
    public Linear up_proj, down_proj;

    public FeedForward(StagFormerConfig c) : base(nameof(FeedForward))
    {
        _kind = c.Ffn;
        if (_kind == FfnKind.GeGLU) gate_proj = nn.Linear(c.DModel, c.FfnHidden, hasBias: false);
        up_proj = nn.Linear(c.DModel, c.FfnHidden, hasBias: false);
        down_proj = nn.Linear(c.FfnHidden, c.DModel, hasBias: false);
        RegisterComponents();
    }

    /// <summary>The input projections as one matrix: GeGLU [gate; up] (2F, d), else up (F, d).</summary>
    public Tensor GateUpWeight() => gate_proj is null ? up_proj.weight! : torch.cat(new[] { gate_proj.weight!, up_proj.weight! }, 0);

    // (B, T, d) → (B, T, d); runs inside the block's dispose scope.
    public override Tensor forward(Tensor x)
    {
        var h = _kind == FfnKind.GeGLU
            ? nn.functional.gelu(gate_proj!.forward(x)) * up_proj.forward(x)
            : nn.functional.gelu(up_proj.forward(x));
        return down_proj.forward(h);
    }
}
