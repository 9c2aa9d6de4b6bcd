using Microsoft.Data.Analysis;
using StagNotebooks.Evaluation;
using StagNotebooks.Experiments;
using StagNotebooks.Training;

namespace StagNotebooks.Reporting;

/// <summary>The quality-gap arms as a table (<see cref="QualityGap"/>).</summary>
public static class QualityGapReport
{
    /// <summary>One row per arm: best validation loss mean ± sd over seeds and its distance from baseline h (positive = worse).</summary>
    public static DataFrame Table(IReadOnlyList<Trained> models)
    {
        var stats = models.Select(m => ArmStats.Of(m.Label, m.Seeds.Select(r => r.BestValLoss ?? double.NaN).ToList())).ToList();
        double reference = stats.Single(s => s.Label == QualityGap.Reference).Mean;
        string Change(string label) => label == QualityGap.Reference ? "(reference)" : label == QualityGap.Control ? "(unchanged)"
            : string.Join(" ", QualityGap.Hypotheses.Single(h => h.Arm.Label == label).Arm.Overrides);
        return new DataFrame(
            new StringDataFrameColumn("model", stats.Select(s => s.Label)),
            new StringDataFrameColumn("change", stats.Select(s => Change(s.Label))),
            new DoubleDataFrameColumn("best val loss", stats.Select(s => s.Mean)),
            new DoubleDataFrameColumn("± sd", stats.Select(s => s.Sd)),
            new DoubleDataFrameColumn($"− {QualityGap.Reference}", stats.Select(s => s.Mean - reference)),
            new Int32DataFrameColumn("seeds", stats.Select(s => s.Seeds)));
    }
}
