namespace StagNotebooks.Training;

/// <summary>One compared model: a label and its runs (one per seed).</summary>
public sealed record Trained(string Label, IReadOnlyList<TrainResult> Seeds);

/// <summary>
/// One arm of a comparison that is more than a named variant: <paramref name="Variant"/> of the preset, changed by
/// <paramref name="Overrides"/> ("Model.ZeroInitCrossOutput=true"), trained under its own <paramref name="Label"/>.
/// <paramref name="H"/>, when set, is the layers per stack the variant is made from (the preset's h otherwise):
/// applied before the variant, so baseline-2h stays twice baseline-h (the regime ladder's rungs).
/// </summary>
public sealed record TrainingArm(string Label, string Variant, IReadOnlyList<string> Overrides, int? H = null)
{
    /// <summary>A variant as it is: the label is the variant's name.</summary>
    public static TrainingArm Of(string variant) => new(variant, variant, Array.Empty<string>());
}
