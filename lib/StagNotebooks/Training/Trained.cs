namespace StagNotebooks.Training;

/// <summary>One compared model: a label and its runs (one per seed).</summary>
public sealed record Trained(string Label, IReadOnlyList<TrainResult> Seeds)
{
    /// <summary>
    /// The workbench's one "val loss", per seed: the best validation loss of each run (the trainer's fixed
    /// validation batches, at the checkpoint it keeps as best; NaN for a run that never validated). Verdicts,
    /// claims and every summary table use this number; document-level evaluation is named as such.
    /// </summary>
    public IReadOnlyList<double> ValLosses => Seeds.Select(r => r.BestValLoss ?? double.NaN).ToList();

    /// <summary>The mean of <see cref="ValLosses"/> over seeds.</summary>
    public double ValLoss => ValLosses.Average();

    /// <summary>The sample sd of <see cref="ValLosses"/>; NaN ("no sd") for one seed. (Written here, not through
    /// Evaluation's SampleStatistics.TableSd: Training sits below Evaluation.)</summary>
    public double ValLossSd
    {
        get
        {
            var xs = ValLosses;
            if (xs.Count < 2) return double.NaN;
            double m = xs.Average();
            return Math.Sqrt(xs.Sum(x => (x - m) * (x - m)) / (xs.Count - 1));
        }
    }

    /// <summary>"3.90 ± 0.021 (3 seeds)" or "3.90 (1 seed, no sd)": the val loss as a summary table prints it.</summary>
    public string ValLossText => Seeds.Count > 1
        ? $"{IO.NumberText.Cell(ValLoss)} ± {IO.NumberText.Significant(ValLossSd, 2)} ({Seeds.Count} seeds)"
        : $"{IO.NumberText.Cell(ValLoss)} (1 seed, no sd)";
}

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
