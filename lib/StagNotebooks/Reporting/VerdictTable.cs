using Microsoft.Data.Analysis;
using StagNotebooks.Evaluation;

namespace StagNotebooks.Reporting;

/// <summary>A notebook's "compared with the paper" table: its claims judged as one family (<see cref="Verdicts"/>), one row each.</summary>
public static class VerdictTable
{
    /// <summary>The columns every verdicts table has, in order (what the claims roll-up reads back).</summary>
    public static readonly string[] Columns =
        { "claim", "metric", "measured (mean ± sd)", "seeds", "pairing", "difference", "95% interval", "p", "correction", "p corrected", "verdict", "why" };

    /// <summary>
    /// One row per claim, judged as one family (<paramref name="correction"/> over these claims): the claim, arms
    /// (mean ± sd), seeds, the deciding difference (positive = the paper's direction) with its interval, p before and
    /// after correction, the label and why.
    /// </summary>
    public static DataFrame Of(IEnumerable<VerdictResult> results, Correction correction = Correction.Holm)
    {
        var rows = Verdicts.Correct(results.ToList(), correction);
        return new DataFrame(
            new StringDataFrameColumn(Columns[0], rows.Select(r => r.Claim.Text)),
            new StringDataFrameColumn(Columns[1], rows.Select(r => $"{r.Claim.Metric} ({(r.Claim.Better == Better.Lower ? "lower" : "higher")} better)")),
            new StringDataFrameColumn(Columns[2], rows.Select(r => string.Join("; ", r.Arms))),
            new Int32DataFrameColumn(Columns[3], rows.Select(r => r.Seeds)),
            new StringDataFrameColumn(Columns[4], rows.Select(r => r.Deciding.Pairing.ToString().ToLowerInvariant())),
            new StringDataFrameColumn(Columns[5], rows.Select(r => Verdicts.Signed(r.Difference))),
            new StringDataFrameColumn(Columns[6], rows.Select(r => Verdicts.Interval(r.Deciding))),
            new StringDataFrameColumn(Columns[7], rows.Select(r => Verdicts.PValue(r.P))),
            new StringDataFrameColumn(Columns[8], rows.Select(r => r.CorrectionUsed)),
            new StringDataFrameColumn(Columns[9], rows.Select(r => Verdicts.PValue(r.PCorrected))),
            new StringDataFrameColumn(Columns[10], rows.Select(r => r.Label.ToString())),
            new StringDataFrameColumn(Columns[11], rows.Select(r => r.Reason)));
    }
}
