using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Probing;

/// <summary>Next-token loss and agreement with the model's own top-1 when the residual after (pass, layer) is unembedded directly.</summary>
public sealed record LensRow(int Pass, int Layer, double Loss, double Top1AgreementWithModel);

/// <summary>
/// The logit lens: apply the model's final norm and unembedding to the residual stream after every block of every
/// pass. At the last block of the last pass (with the last-stack output) it is the model's own prediction.
/// </summary>
public static class LogitLens
{
    public static IReadOnlyList<LensRow> Run(StagFormerModel model, Tensor tokens)
    {
        using var ng = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        model.eval();
        using var capture = ActivationCapture.Start(attention: false, residuals: true);
        var logits = model.forward(new ModelInput(tokens)).Logits;                                   // (B, T, V)
        var inputs = tokens.narrow(1, 0, tokens.shape[1] - 1);
        var targets = tokens.narrow(1, 1, tokens.shape[1] - 1).reshape(-1);
        var modelTop = logits.narrow(1, 0, tokens.shape[1] - 1).argmax(-1);
        var rows = new List<LensRow>();
        foreach (var ((pass, layer), residual) in capture.Residuals.OrderBy(kv => kv.Key))
        {
            var lens = model.Head(residual).narrow(1, 0, tokens.shape[1] - 1);                        // (B, T−1, V)
            double loss = nn.functional.cross_entropy(lens.reshape(-1, lens.shape[^1]), targets).item<float>();
            double agree = lens.argmax(-1).eq(modelTop).to(ScalarType.Float32).mean().item<float>();
            rows.Add(new LensRow(pass, layer, loss, agree));
        }
        return rows;
    }
}
