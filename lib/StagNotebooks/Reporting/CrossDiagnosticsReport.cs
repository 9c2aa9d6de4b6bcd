using Microsoft.Data.Analysis;
using StagNotebooks.Evaluation;
using StagNotebooks.Model;
using StagNotebooks.Training;

namespace StagNotebooks.Reporting;

/// <summary>Which column of <see cref="CrossOutputStats"/> a chart shows.</summary>
public enum CrossMeasure { RmsRatio, ConstantShare, UnigramCorrelation }

/// <summary>
/// The cross-attention diagnostic of trained runs (runs/&lt;run&gt;/cross-diagnostics.csv) over training: for each arm,
/// the measure averaged over the cross layers of the last pass, mean ± sd over seeds at every validation step.
/// </summary>
public static class CrossDiagnosticsReport
{
    static double Pick(CrossOutputStats s, CrossMeasure m) => m switch
    {
        CrossMeasure.RmsRatio => s.RmsRatio,
        CrossMeasure.ConstantShare => s.ConstantShare,
        _ => s.UnigramCorrelation,
    };

    static string Axis(CrossMeasure m) => m switch
    {
        CrossMeasure.RmsRatio => "cross output RMS / token embedding RMS",
        CrossMeasure.ConstantShare => "share of the output that is one constant vector",
        _ => "correlation of its logit contribution with log unigram",
    };

    /// <summary>(step, value of the measure averaged over the last pass's cross layers) of one run.</summary>
    static IReadOnlyList<(int Step, double Value)> PerStep(TrainResult run, CrossMeasure m)
    {
        var rows = CrossDiagnosticsLog.ReadFrom(run.Run.Path);
        if (rows.Count == 0) return Array.Empty<(int, double)>();
        int last = rows.Max(r => r.Stats.Pass);
        return rows.Where(r => r.Stats.Pass == last).GroupBy(r => r.Step).OrderBy(g => g.Key).Select(g => (g.Key, g.Average(r => Pick(r.Stats, m)))).ToList();
    }

    public static Figure Chart(IReadOnlyList<Trained> models, CrossMeasure measure, string title) =>
        Charts.Lines(title, "step", Axis(measure), models.Select(m =>
        {
            var bySeed = m.Seeds.Select(r => PerStep(r, measure)).Where(s => s.Count > 0).ToList();
            var steps = bySeed.Count == 0 ? new List<int>() : bySeed.Select(s => s.Select(x => x.Step)).Aggregate((a, b) => a.Intersect(b)).Order().ToList();
            var stats = steps.Select(step => SampleStatistics.MeanSd(bySeed.Select(s => s.First(x => x.Step == step).Value))).ToList();
            return new Series(m.Label, steps.Select(s => (double)s).ToList(), stats.Select(s => s.Mean).ToList(),
                              bySeed.Count > 1 ? stats.Select(s => s.Sd).ToList() : null, "lines+markers");
        }));

    /// <summary>One row per arm at its last validation step: the three measures (mean over seeds) and the best validation loss.</summary>
    public static DataFrame Final(IReadOnlyList<Trained> models)
    {
        double Last(Trained m, CrossMeasure measure) =>
            m.Seeds.Select(r => PerStep(r, measure)).Where(s => s.Count > 0).Select(s => s[^1].Value).DefaultIfEmpty(double.NaN).Average();
        return new DataFrame(
            new StringDataFrameColumn("model", models.Select(m => m.Label)),
            new DoubleDataFrameColumn("RMS / embedding", models.Select(m => Math.Round(Last(m, CrossMeasure.RmsRatio), 3))),
            new DoubleDataFrameColumn("constant share", models.Select(m => Math.Round(Last(m, CrossMeasure.ConstantShare), 3))),
            new DoubleDataFrameColumn("unigram correlation", models.Select(m => Math.Round(Last(m, CrossMeasure.UnigramCorrelation), 3))),
            new DoubleDataFrameColumn("best val loss", models.Select(m => Math.Round(m.Seeds.Average(r => r.BestValLoss ?? double.NaN), 3))),
            new Int32DataFrameColumn("seeds", models.Select(m => m.Seeds.Count)));
    }
}
