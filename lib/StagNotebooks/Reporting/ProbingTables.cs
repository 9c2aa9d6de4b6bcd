using Microsoft.Data.Analysis;
using StagNotebooks.Evaluation;
using StagNotebooks.Probing;

namespace StagNotebooks.Reporting;

/// <summary>
/// Tables and figures of notebook 09's probes over seeds: one column per seed, then the mean and the sd over seeds (sd
/// NaN, shown as "no sd", for one seed). Titles name the number of seeds they come from.
/// </summary>
public static class ProbingTables
{
    internal static string SeedsText(int n) => n == 1 ? "1 seed" : $"{n} seeds";

    /// <summary>Per-seed columns "seed 1".."seed n" of <paramref name="values"/>[seed][row], then "mean" and "sd" over seeds.</summary>
    internal static IEnumerable<DataFrameColumn> SeedColumns(string what, IReadOnlyList<IReadOnlyList<double>> values)
    {
        int rows = values[0].Count;
        for (int s = 0; s < values.Count; s++) yield return new DoubleDataFrameColumn($"{what}, seed {s + 1}", values[s]);
        yield return new DoubleDataFrameColumn($"{what}, mean", Enumerable.Range(0, rows).Select(r => values.Average(v => v[r])));
        yield return new DoubleDataFrameColumn($"{what}, sd", Enumerable.Range(0, rows).Select(r => SampleStatistics.TableSd(values.Select(v => v[r]))));
    }

    /// <summary>The ablation arms (rows, as <see cref="CrossAblation.Measure"/> orders them) of every seed: loss, and the share of the full model's advantage over the last stack alone each arm loses.</summary>
    public static DataFrame Ablation(IReadOnlyList<IReadOnlyList<AblationArm>> perSeed)
    {
        var columns = new List<DataFrameColumn> { new StringDataFrameColumn("forward", perSeed[0].Select(a => a.Forward)) };
        columns.AddRange(SeedColumns("test loss (nats)", perSeed.Select(arms => (IReadOnlyList<double>)arms.Select(a => a.Loss).ToList()).ToList()));
        columns.AddRange(SeedColumns("share of advantage lost", perSeed.Select(arms => (IReadOnlyList<double>)arms.Select(a => CrossAblation.ShareLost(arms, a)).ToList()).ToList()));
        return new DataFrame(columns);
    }

    /// <summary>Memory-lag patching (<see cref="MemoryLagPatching"/>) of every seed: one row per (point, lag), the share of the corruption's damage.</summary>
    public static DataFrame LagShares(IReadOnlyList<PatchingSweep> perSeed)
    {
        var sweep = perSeed[0];
        var lags = MemoryLagPatching.Lags(sweep);
        var cells = sweep.Points.SelectMany((p, i) => lags.Select((lag, j) => (Point: p, Lag: lag, I: i, J: j))).ToList();
        var columns = new List<DataFrameColumn>
        {
            new StringDataFrameColumn("patched point", cells.Select(c => c.Point)),
            new Int32DataFrameColumn("lag", cells.Select(c => c.Lag)),
        };
        columns.AddRange(SeedColumns("share of damage", perSeed.Select(s => (IReadOnlyList<double>)cells.Select(c => s.Restored[c.I][c.J]).ToList()).ToList()));
        return new DataFrame(columns);
    }

    /// <summary>The share of damage per lag: one row per seed and point, lags across, colour fixed to 0–1 with the numbers in the cells.</summary>
    public static Figure LagHeatmap(IReadOnlyList<PatchingSweep> perSeed, string title)
    {
        var lags = MemoryLagPatching.Lags(perSeed[0]).Select(l => l.ToString()).ToList();
        var rows = perSeed.SelectMany((s, k) => s.Points.Select((p, i) => (Label: $"seed {k + 1}: {p}", Z: s.Restored[i]))).ToList();
        return Charts.Heatmap($"{title} ({SeedsText(perSeed.Count)})", "lag of the patched position behind the query", "seed: patched point",
                              rows.Select(r => r.Z).ToArray(), lags, rows.Select(r => r.Label).ToList(), zMin: 0, zMax: 1, valueFormat: ".2f");
    }

    /// <summary>Cross-attention lag profiles: attention mass per lag, mean over seeds with sd as error bars, one line per layer.</summary>
    public static Figure LagProfiles(IReadOnlyList<IReadOnlyList<LagProfile>> perSeed, string title)
    {
        var series = perSeed[0].Select((profile, i) =>
        {
            var x = Enumerable.Range(1, profile.MassByLag.Length).Select(l => (double)l).ToList();
            var stats = x.Select((_, j) => SampleStatistics.MeanSd(perSeed.Select(s => s[i].MassByLag[j]))).ToList();
            var nullMass = SampleStatistics.MeanSd(perSeed.Select(s => s[i].NullMass)).Mean;
            return new Series($"stack {profile.Pass + 1}, layer {profile.Layer + 1} (null slot {nullMass:F2})", x, stats.Select(t => t.Mean).ToList(),
                              stats.Select(t => t.Sd).ToList(), Mode: "lines+markers", ErrorBars: perSeed.Count > 1);
        });
        return Charts.Lines($"{title} ({SeedsText(perSeed.Count)})", "lag i − k", "attention mass", series.ToList());
    }

    /// <summary>The logit lens of every seed: one row per block, loss and top-1 agreement with the model.</summary>
    public static DataFrame LogitLens(IReadOnlyList<IReadOnlyList<LensRow>> perSeed)
    {
        var columns = new List<DataFrameColumn> { new StringDataFrameColumn("block", perSeed[0].Select(r => $"stack {r.Pass + 1}, layer {r.Layer + 1}")) };
        columns.AddRange(SeedColumns("loss (nats)", perSeed.Select(rows => (IReadOnlyList<double>)rows.Select(r => r.Loss).ToList()).ToList()));
        columns.AddRange(SeedColumns("top-1 = model's", perSeed.Select(rows => (IReadOnlyList<double>)rows.Select(r => r.Top1AgreementWithModel).ToList()).ToList()));
        return new DataFrame(columns);
    }

    /// <summary>CKA between stack 1's layers (rows) and stack 2's (columns), the mean over seeds, numbers in the cells.</summary>
    public static Figure CkaMean(IReadOnlyList<double[,]> perSeed)
    {
        int h = perSeed[0].GetLength(0);
        var mean = Enumerable.Range(0, h).Select(i => Enumerable.Range(0, h).Select(j => perSeed.Average(c => c[i, j])).ToArray()).ToArray();
        var names = Enumerable.Range(1, h).Select(i => $"layer {i}").ToList();
        return Charts.Heatmap($"CKA between stack 1 (rows) and stack 2 (columns), mean of {SeedsText(perSeed.Count)}", "stack 2", "stack 1",
                              mean, names, names, zMin: 0, zMax: 1, valueFormat: ".3f");
    }

    /// <summary>One row per (hook point, position): the metric and the fraction restored.</summary>
    public static DataFrame ToDataFrame(this PatchingSweep sweep)
    {
        var restored = sweep.Restored;   // a computed matrix: once, not per cell
        var cells = sweep.Points.SelectMany((p, i) => sweep.Positions.Select((pos, j) => (Point: p, Position: pos, Metric: sweep.Metric[i][j], Restored: restored[i][j]))).ToList();
        return new DataFrame(
            new StringDataFrameColumn("hook point", cells.Select(c => c.Point)),
            new Int32DataFrameColumn("position", cells.Select(c => c.Position)),
            new DoubleDataFrameColumn("metric", cells.Select(c => c.Metric)),
            new DoubleDataFrameColumn("restored", cells.Select(c => c.Restored)));
    }
}
