using Microsoft.Data.Analysis;
using StagNotebooks.Evaluation;
using StagNotebooks.Experiments;

namespace StagNotebooks.Reporting;

/// <summary>The regime ladder's figure and table (<see cref="RegimeLadder"/>): StagFormer's gaps against h, paired, with intervals.</summary>
public static class LadderReport
{
    /// <summary>Loss difference (positive: the first arm is worse) against h, with the paired 95% interval as error bars.</summary>
    public static Figure Chart(IReadOnlyList<LadderRung> rungs) =>
        Charts.Lines("The regime ladder: StagFormer's gaps as depth per stack grows", "h (layers per stack)",
            "best validation loss difference (nats; > 0: worse)", RegimeLadder.Gaps.Select(g =>
            {
                var cs = rungs.Select(r => RegimeLadder.Gap(r, g.Better, g.Worse)).ToList();
                bool intervals = cs.All(c => !double.IsNaN(c.Low));
                return new Series(g.Name, rungs.Select(r => (double)r.H).ToList(), cs.Select(c => c.Difference).ToList(),
                                  intervals ? cs.Select(c => (c.High - c.Low) / 2).ToList() : null, "lines+markers", ErrorBars: true);
            }));

    /// <summary>One row per rung and gap: the two arms (mean ± sd), the paired difference, its 95% interval and seeds.</summary>
    public static DataFrame Table(IReadOnlyList<LadderRung> rungs)
    {
        var rows = rungs.SelectMany(r => RegimeLadder.Gaps.Select(g => (r.H, g.Name, C: RegimeLadder.Gap(r, g.Better, g.Worse)))).ToList();
        return new DataFrame(
            new Int32DataFrameColumn("h", rows.Select(x => x.H)),
            new StringDataFrameColumn("gap", rows.Select(x => x.Name)),
            new StringDataFrameColumn("arms (mean ± sd)", rows.Select(x => $"{x.C.Loser}; {x.C.Winner}")),
            new StringDataFrameColumn("difference", rows.Select(x => Verdicts.Signed(x.C.Difference))),
            new StringDataFrameColumn("95% interval", rows.Select(x => Verdicts.Interval(x.C))),
            new Int32DataFrameColumn("seeds", rows.Select(x => x.C.Seeds)));
    }
}
