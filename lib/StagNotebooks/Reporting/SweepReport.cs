using System.Globalization;
using Microsoft.Data.Analysis;
using StagNotebooks.Evaluation;
using StagNotebooks.Experiments;

namespace StagNotebooks.Reporting;

/// <summary>The learning-rate sweep's figure and table (<see cref="LearningRateSweep"/>).</summary>
public static class SweepReport
{
    /// <summary>Best validation loss against the peak rate (log axis), one line per variant, sd over seeds as error bars.</summary>
    public static Figure Chart(IReadOnlyList<SweepCell> cells) =>
        Charts.Lines($"Learning-rate sweep (held-out seeds from {LearningRateSweep.FirstSeed})", "peak learning rate", "best validation loss (nats/token)",
            cells.GroupBy(c => c.Variant).Select(g => new Series(g.Key, g.Select(c => c.LearningRate).ToList(), g.Select(c => c.Loss.Mean).ToList(),
                g.Select(c => double.IsNaN(c.Loss.Sd) ? 0 : c.Loss.Sd).ToList(), "lines+markers", ErrorBars: true)), logX: true);

    /// <summary>
    /// One row per (variant, rate): mean ± sd over the sweep's seeds, and which rate the variant gets; a choice at the
    /// end of the rates swept says so, since the best rate may then lie beyond them.
    /// </summary>
    public static DataFrame Table(IReadOnlyList<SweepCell> cells)
    {
        var best = LearningRateSweep.Best(cells);
        string Chosen(SweepCell c)
        {
            if (best[c.Variant] != c.LearningRate) return "";
            var rates = cells.Where(x => x.Variant == c.Variant).Select(x => x.LearningRate).ToList();
            return rates.Count < 2 ? "yes" : c.LearningRate == rates.Min() ? "yes (the lowest rate swept: the best may be lower)"
                 : c.LearningRate == rates.Max() ? "yes (the highest rate swept: the best may be higher)" : "yes";
        }
        return new DataFrame(
            new StringDataFrameColumn("variant", cells.Select(c => c.Variant)),
            new StringDataFrameColumn("peak learning rate", cells.Select(c => c.LearningRate.ToString("G3", CultureInfo.InvariantCulture))),
            new StringDataFrameColumn("best val loss (mean ± sd)", cells.Select(c => $"{Verdicts.Number(c.Loss.Mean)}{(double.IsNaN(c.Loss.Sd) ? "" : $" ± {Verdicts.Number(c.Loss.Sd, 2)}")}")),
            new Int32DataFrameColumn("seeds", cells.Select(c => c.Loss.Seeds)),
            new StringDataFrameColumn("chosen", cells.Select(Chosen)));
    }
}
