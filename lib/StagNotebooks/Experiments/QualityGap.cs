using StagNotebooks.Evaluation;
using StagNotebooks.Training;

namespace StagNotebooks.Experiments;

/// <summary>One testable explanation of the quality gap: the arm that changes one thing, and what it tests.</summary>
public sealed record GapHypothesis(TrainingArm Arm, string Tests);

/// <summary>
/// Why does separate 2×h trail baseline h, when it contains it (with cross-attention's output projection at zero,
/// stack 2 is exactly an h-layer model over the embeddings)? Each hypothesis changes one option of separate 2×h;
/// its verdicts say whether it beats the unchanged model and whether baseline h still beats it (the gap remains).
/// </summary>
public static class QualityGap
{
    public const string Control = "separate-2xh";
    public const string Reference = "baseline-h";

    public static readonly IReadOnlyList<GapHypothesis> Hypotheses = new[]
    {
        new GapHypothesis(new TrainingArm("separate-2xh+zero-cross-out", Control, new[] { "Model.ZeroInitCrossOutput=true" }),
            "cross-attention starts as noise added to stack 2's residual stream: start its output projection at zero, so stack 2 starts as baseline h"),
        new GapHypothesis(new TrainingArm("separate-2xh+stack-depth-init", Control, new[] { "Model.ResidualInit=StackDepth" }),
            "residual projections are scaled for depth 2·p·h although each stream only runs through h blocks: scale by the stream's own depth"),
        new GapHypothesis(new TrainingArm("separate-2xh+null-decay", Control, new[] { "DecayNullSlots=true" }),
            "weight decay pulls the null slots (what position 0 attends to) to zero; the default stopped decaying them — put the decay back to see whether it mattered"),
        new GapHypothesis(new TrainingArm("separate-2xh+cross-gate", Control, new[] { "Model.CrossGate=PerLayer" }),
            "early, diffuse full-window cross-attention averages the memory into a constant vector that AdamW grows into a unigram bias, drowning the current token: gate its output with tanh(g), g = 0 at the start"),
        new GapHypothesis(new TrainingArm("separate-2xh+cross-lr0.1", Control, new[] { "CrossAttentionLrScale=0.1" }),
            "the same bias channel grows because the learning rate is large for it: train cross-attention at a tenth of the learning rate"),
    };

    /// <summary>The arms to train: baseline h, the unchanged separate 2×h, then one arm per hypothesis.</summary>
    public static IReadOnlyList<TrainingArm> Arms() =>
        new[] { TrainingArm.Of(Reference), TrainingArm.Of(Control) }.Concat(Hypotheses.Select(h => h.Arm)).ToList();

    /// <summary>Per hypothesis: "it beats the unchanged separate 2×h" and "baseline h still beats it" (replicated = the gap remains).</summary>
    public static IReadOnlyList<Claim> Claims() => Hypotheses.SelectMany(h => new[]
    {
        Claim.Beats($"quality gap: {h.Arm.Label} beats {Control}", h.Arm.Label, Control),
        Claim.Beats($"quality gap: {Reference} still beats {h.Arm.Label} (replicated = the gap remains)", Reference, h.Arm.Label),
    }).ToList();
}
