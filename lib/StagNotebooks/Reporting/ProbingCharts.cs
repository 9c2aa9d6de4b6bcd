using StagNotebooks.Probing;

namespace StagNotebooks.Reporting;

/// <summary>Figures of the probing results.</summary>
public static class ProbingCharts
{
    /// <summary>A patching sweep as a heatmap: hook points down, positions across, the fraction restored in each cell (colour fixed to 0–1).</summary>
    public static Figure Heatmap(this PatchingSweep sweep, string title) =>
        Charts.Heatmap(title, "position patched", "hook point", sweep.Restored, sweep.Positions.Select(p => p.ToString()).ToList(), sweep.Points,
                       zMin: 0, zMax: 1, valueFormat: ".2f");

    /// <summary>
    /// A cross-attention map from <see cref="AttentionAnalysis.CrossMap"/>: queries down, the null slot ("∅ null")
    /// then every memory position across, colour fixed to 0–1, so a row's colours add up to 1.
    /// </summary>
    public static Figure CrossAttentionMap(double[][] map, IReadOnlyList<string> queryLabels, IReadOnlyList<string> memoryLabels, string title) =>
        Charts.Heatmap(title, "stack-1 position (key); first column: the null slot", "query token", map,
                       new[] { "∅ null" }.Concat(memoryLabels).ToList(), queryLabels, zMin: 0, zMax: 1);
}
