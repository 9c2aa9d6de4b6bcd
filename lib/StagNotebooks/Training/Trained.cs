namespace StagNotebooks.Training;

/// <summary>One compared model: a label and its runs (one per seed).</summary>
public sealed record Trained(string Label, IReadOnlyList<TrainResult> Seeds);
