using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Probing;

/// <summary>One forward of an ablation: its name and its next-token loss (nats) on the sequences.</summary>
public sealed record AblationArm(string Forward, double Loss);

/// <summary>
/// How much of a StagFormer's loss goes through cross-attention, by ablating what the cross-attention sublayers add to
/// the residual stream (<see cref="HookNames.CrossOut"/>). Zeroing all of them turns separate 2×h into exactly stack 2
/// alone (HookTests); replacing each by its mean over the sequences and positions keeps a constant (a bias) and removes
/// what depends on the input; zeroing one layer at a time shows where it enters.
/// </summary>
public static class CrossAblation
{
    public const string Full = "full model";
    public const string StackAlone = "last stack alone (every cross output zeroed)";
    public const string MeanAblated = "every cross output mean-ablated";

    /// <summary>The arms above on inputs (B, T) with next tokens targets (B, T), in that order, then one per cross layer zeroed.</summary>
    public static IReadOnlyList<AblationArm> Measure(StagFormerModel model, Tensor inputs, Tensor targets)
    {
        var points = HookNames.All(model.Config).Where(n => n.EndsWith(".cross_attn.hook_out", StringComparison.Ordinal)).ToList();
        if (points.Count == 0) throw new ArgumentException($"a model with {model.Config.Stacks} stack(s) has no cross-attention to ablate");
        var meanAblated = new HookSet();
        foreach (var point in points) meanAblated.Add(point, Interventions.Mean(Interventions.MeanOf(model, inputs, point)));
        var arms = new List<(string Name, HookSet Hooks)>
        {
            (Full, new HookSet()),
            (StackAlone, Interventions.ZeroAllCrossOutputs(model.Config)),
            (MeanAblated, meanAblated),
        };
        arms.AddRange(points.Select(p => ($"{p} zeroed", new HookSet().Add(p, Interventions.Zero()))));
        return arms.Select(a => new AblationArm(a.Name, Loss(model, inputs, targets, a.Hooks))).ToList();
    }

    /// <summary>Mean next-token cross-entropy (nats) of a forward of inputs (B, T) against targets (B, T) with hooks.</summary>
    public static double Loss(StagFormerModel model, Tensor inputs, Tensor targets, HookSet hooks)
    {
        using var scope = torch.NewDisposeScope();
        var logits = Interventions.RunWithHooks(model, inputs, hooks);                         // (B, T, V)
        return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), targets.reshape(-1)).to(ScalarType.Float64).item<double>();
    }

    /// <summary>
    /// The share of the full model's advantage over the last stack alone that an arm loses: (loss − full) / (alone − full).
    /// 1 for the stack-alone arm itself; NaN when the model has no advantage to share.
    /// </summary>
    public static double ShareLost(IReadOnlyList<AblationArm> arms, AblationArm arm)
    {
        double full = arms.Single(a => a.Forward == Full).Loss, alone = arms.Single(a => a.Forward == StackAlone).Loss;
        return alone > full ? (arm.Loss - full) / (alone - full) : double.NaN;
    }
}
