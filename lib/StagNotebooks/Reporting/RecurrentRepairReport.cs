using Microsoft.Data.Analysis;
using StagNotebooks.Probing;

namespace StagNotebooks.Reporting;

/// <summary>Recurrent decoding's drift (<see cref="RecurrentDrift"/>) and what restoring the true memory repairs (<see cref="RecurrentRepair"/>), over seeds.</summary>
public static class RecurrentRepairReport
{
    /// <summary>Relative distance of the recurrent final state from the two-pass one per position, one line per seed.</summary>
    public static Figure DriftChart(IReadOnlyList<IReadOnlyList<DriftPoint>> perSeed, int prompt) =>
        Charts.Lines($"Recurrent drift after a {prompt}-token prompt ({ProbingTables.SeedsText(perSeed.Count)})", "position", "‖h_recurrent − h_two-pass‖ / ‖h_two-pass‖",
            perSeed.Select((d, s) => new Series($"seed {s + 1}", d.Select(p => (double)p.Position).ToList(), d.Select(p => p.RelativeDistance).ToList(), Mode: "lines+markers")).ToList());

    /// <summary>Per position: the relative distance and the loss gap (recurrent − two-pass, nats) of every seed, mean and sd.</summary>
    public static DataFrame DriftTable(IReadOnlyList<IReadOnlyList<DriftPoint>> perSeed)
    {
        var columns = new List<DataFrameColumn> { new Int32DataFrameColumn("position", perSeed[0].Select(p => p.Position)) };
        columns.AddRange(ProbingTables.SeedColumns("relative distance", perSeed.Select(d => (IReadOnlyList<double>)d.Select(p => p.RelativeDistance).ToList()).ToList()));
        columns.AddRange(ProbingTables.SeedColumns("loss gap (nats)", perSeed.Select(d => (IReadOnlyList<double>)d.Select(p => p.LossGap).ToList()).ToList()));
        return new DataFrame(columns);
    }

    /// <summary>Per restored position: the mean loss gap after it without and with the restore, and the share repaired, of every seed.</summary>
    public static DataFrame RepairTable(IReadOnlyList<IReadOnlyList<RepairPoint>> perSeed)
    {
        var columns = new List<DataFrameColumn> { new Int32DataFrameColumn("memory restored at", perSeed[0].Select(p => p.Restored)) };
        columns.AddRange(ProbingTables.SeedColumns("gap after, recurrent (nats)", perSeed.Select(r => (IReadOnlyList<double>)r.Select(p => p.GapBefore).ToList()).ToList()));
        columns.AddRange(ProbingTables.SeedColumns("gap after, restored (nats)", perSeed.Select(r => (IReadOnlyList<double>)r.Select(p => p.GapAfter).ToList()).ToList()));
        columns.AddRange(ProbingTables.SeedColumns("share repaired", perSeed.Select(r => (IReadOnlyList<double>)r.Select(p => p.ShareRepaired).ToList()).ToList()));
        return new DataFrame(columns);
    }
}
