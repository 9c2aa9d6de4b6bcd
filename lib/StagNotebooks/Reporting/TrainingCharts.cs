using StagNotebooks.Evaluation;
using StagNotebooks.Training;

namespace StagNotebooks.Reporting;

/// <summary>Charts of training runs: validation loss against tokens (the paper's Figure 4) and training loss per step.</summary>
public static class TrainingCharts
{
    /// <summary>Validation loss against training tokens, mean ± sd over seeds (the paper's Figure 4).</summary>
    public static Figure LossCurves(IReadOnlyList<Trained> models, string title = "Validation loss during training")
    {
        var series = models.Select(m =>
        {
            var points = m.Seeds.SelectMany(r => r.Metrics.Where(x => x.ValLoss != null)).GroupBy(x => x.Tokens).OrderBy(g => g.Key).ToList();
            var stats = points.Select(g => SampleStatistics.MeanSd(g.Select(x => x.ValLoss!.Value))).ToList();
            return new Series(m.Label, points.Select(g => (double)g.Key).ToList(), stats.Select(s => s.Mean).ToList(),
                              m.Seeds.Count > 1 ? stats.Select(s => s.Sd).ToList() : null, "lines+markers");
        });
        return Charts.Lines(title, "training tokens", "validation loss (nats/token)", series);
    }

    /// <summary>Training loss per step (smoothed over a window of steps), first seed of each model.</summary>
    public static Figure TrainingLoss(IReadOnlyList<Trained> models, int smooth = 10) =>
        Charts.Lines("Training loss", "step", "training loss (nats/token)", models.Select(m =>
        {
            var rows = m.Seeds[0].Metrics;
            var ys = rows.Select((_, i) => rows.Skip(Math.Max(0, i - smooth + 1)).Take(Math.Min(smooth, i + 1)).Average(r => r.Loss)).ToList();
            return new Series(m.Label, rows.Select(r => (double)r.Step).ToList(), ys);
        }));
}
