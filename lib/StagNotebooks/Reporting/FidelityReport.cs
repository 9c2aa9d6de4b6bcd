using Microsoft.Data.Analysis;
using StagNotebooks.Experiments;

namespace StagNotebooks.Reporting;

/// <summary>The budget search's table and figure (<see cref="FidelitySearch"/>): is depth resolved at each budget?</summary>
public static class FidelityReport
{
    /// <summary>One row per budget: both arms (mean, sd), the gap, its pooled sd, the resolution, seconds per model.</summary>
    public static DataFrame Table(IReadOnlyList<FidelityRow> rows) => new(
        new StringDataFrameColumn("budget", rows.Select(r => r.Budget)),
        new StringDataFrameColumn("shape", rows.Select(r => r.Shape)),
        new Int32DataFrameColumn("steps", rows.Select(r => r.Steps)),
        new Int64DataFrameColumn("tokens per model", rows.Select(r => r.TokensPerModel)),
        new DoubleDataFrameColumn("baseline h loss", rows.Select(r => r.H.Mean)),
        new DoubleDataFrameColumn("h ± sd", rows.Select(r => r.H.Sd)),
        new DoubleDataFrameColumn("baseline 2h loss", rows.Select(r => r.TwoH.Mean)),
        new DoubleDataFrameColumn("2h ± sd", rows.Select(r => r.TwoH.Sd)),
        new DoubleDataFrameColumn("gap (h − 2h)", rows.Select(r => r.Gap)),
        new DoubleDataFrameColumn("pooled sd", rows.Select(r => r.PooledSd)),
        new DoubleDataFrameColumn("gap / sd", rows.Select(r => r.Resolution)),
        new BooleanDataFrameColumn($"resolved (≥ {FidelitySearch.RequiredResolution} sd)", rows.Select(r => r.Resolved)),
        new DoubleDataFrameColumn("s per model", rows.Select(r => r.SecondsPerModel)),
        new Int32DataFrameColumn("seeds", rows.Select(r => r.H.Seeds)));

    /// <summary>Bars: the gap per budget with its pooled sd, beside the 5 sd bar it has to clear.</summary>
    public static Figure Chart(IReadOnlyList<FidelityRow> rows) =>
        Charts.Bars($"Depth resolved? baseline h − 2h best validation loss per budget (bar to clear: {FidelitySearch.RequiredResolution} pooled sd)",
            "budget", "nats/token", rows.Select(r => $"{r.Budget} ({r.TokensPerModel / 1e6:F1}M tok)").ToList(), new (string, IReadOnlyList<double>, IReadOnlyList<double>?)[]
            {
                ("gap h − 2h (± pooled sd)", rows.Select(r => r.Gap).ToList(), rows.Select(r => double.IsNaN(r.PooledSd) ? 0 : r.PooledSd).ToList()),
                ($"{FidelitySearch.RequiredResolution} × pooled sd", rows.Select(r => FidelitySearch.RequiredResolution * (double.IsNaN(r.PooledSd) ? 0 : r.PooledSd)).ToList(), null),
            });
}
