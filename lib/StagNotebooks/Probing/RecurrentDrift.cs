using StagNotebooks.Decoding;
using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Probing;

/// <summary>At one position: how far the recurrent state is from the two-pass state, and what it costs in loss.</summary>
public sealed record DriftPoint(int Position, double RelativeDistance, double TwoPassLoss, double RecurrentLoss)
{
    public double LossGap => RecurrentLoss - TwoPassLoss;
}

/// <summary>
/// Recurrent drift: the shared-weights model decodes a text recurrently (its own outputs as cross memory) and
/// two-pass (as trained); per position, the distance between the two final outputs (relative to the two-pass one)
/// and the next-token losses. Both see the same ground-truth tokens, so the gap is the recurrence's alone.
/// </summary>
public static class RecurrentDrift
{
    public static IReadOnlyList<DriftPoint> Measure(StagFormerModel model, Tensor tokens, int promptLength, RecurrentPrefill prefill = RecurrentPrefill.TwoPass)
    {
        using var ng = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        model.eval();
        int t = (int)tokens.shape[1], last = model.Config.LayersPerStack - 1;
        var twoPass = model.forward(new ModelInput(tokens, KeepStackOutputs: true));
        var twoPassFinal = twoPass.StackOutputs![1];                                                  // (B, T, d)
        var twoPassLogp = twoPass.Logits.log_softmax(-1);

        using var engine = EngineKinds.Create(model, prefill == RecurrentPrefill.TwoPass ? EngineKind.Recurrent : EngineKind.RecurrentSelfPrefill);
        using var session = engine.Start(tokens.shape[0]);
        using var capture = ActivationCapture.Start(attention: false, residuals: true);
        session.Prefill(tokens.narrow(1, 0, promptLength));
        var points = new List<DriftPoint>();
        for (int pos = promptLength; pos < t; pos++)
        {
            var logits = session.Step(tokens.narrow(1, pos, 1));                                     // (B, V)
            var h = capture.Residuals[(1, last)].squeeze(1);                                         // the recurrent final output at pos
            var reference = twoPassFinal.select(1, pos);
            double dist = ((h - reference).norm() / reference.norm()).item<float>();
            if (pos + 1 >= t) break;
            var target = tokens.select(1, pos + 1);
            double rec = -logits.log_softmax(-1).gather(1, target.unsqueeze(1)).mean().item<float>();
            double two = -twoPassLogp.select(1, pos).gather(1, target.unsqueeze(1)).mean().item<float>();
            points.Add(new DriftPoint(pos, dist, two, rec));
        }
        return points;
    }
}
