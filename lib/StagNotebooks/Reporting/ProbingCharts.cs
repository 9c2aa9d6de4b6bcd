using StagNotebooks.Probing;

namespace StagNotebooks.Reporting;

/// <summary>Figures of the probing results.</summary>
public static class ProbingCharts
{
    /// <summary>A patching sweep as a heatmap: hook points down, positions across, the fraction restored in each cell (colour fixed to 0–1).</summary>
    public static Figure Heatmap(this PatchingSweep sweep, string title) =>
        Charts.Heatmap(title, "position patched", "hook point", sweep.Restored, sweep.Positions.Select(p => p.ToString()).ToList(), sweep.Points,
                       zMin: 0, zMax: 1, valueFormat: ".2f");
}
