namespace StagNotebooks.Training;

/// <summary>One compared model: a label and its runs (one per seed).</summary>
public sealed record Trained(string Label, IReadOnlyList<TrainResult> Seeds);

/// <summary>
/// One arm of a comparison that is more than a named variant: <paramref name="Variant"/> of the preset, changed by
/// <paramref name="Overrides"/> ("Model.ZeroInitCrossOutput=true"), trained under its own <paramref name="Label"/>.
/// </summary>
public sealed record TrainingArm(string Label, string Variant, IReadOnlyList<string> Overrides)
{
    /// <summary>A variant as it is: the label is the variant's name.</summary>
    public static TrainingArm Of(string variant) => new(variant, variant, Array.Empty<string>());
}
