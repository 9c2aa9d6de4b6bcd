using Microsoft.Data.Analysis;
using StagNotebooks.Benchmarks;
using StagNotebooks.Decoding;
using StagNotebooks.Experiments;

namespace StagNotebooks.Reporting;

/// <summary>The decode benchmark's tables as notebooks 06 and 10 show and save them (one definition of each column).</summary>
public static class DecodeTables
{
    /// <summary>
    /// Table 2 of notebook 06: per variant and engine, prefill and decode time, the interquartile range, the ratio to
    /// baseline 2h with its interval, outlier steps (the machine, not the engine), whether the greedy tokens equal the
    /// sequential engine's (null for recurrent decoding: another function), libtorch calls on a step's critical path,
    /// and the weights and cross K/V it reads.
    /// </summary>
    public static DataFrame Engines(IReadOnlyList<DecodeBenchResult> results) => new(
        new StringDataFrameColumn("variant", results.Select(r => r.Variant)), new StringDataFrameColumn("engine", results.Select(r => r.EngineName)),
        new DoubleDataFrameColumn("prefill ms", results.Select(r => r.PrefillMs)), new DoubleDataFrameColumn("decode ms/token", results.Select(r => r.DecodeMedianMs)),
        new DoubleDataFrameColumn("IQR ms", results.Select(r => r.DecodeP75Ms - r.DecodeP25Ms)), new StringDataFrameColumn("× baseline-2h [95%]", results.Select(r => r.RatioText)),
        new Int32DataFrameColumn("outliers", results.Select(r => r.Outliers)),
        new BooleanDataFrameColumn("tokens = sequential", results.Select(r => r.TokensEqualSequential)),
        new Int64DataFrameColumn("calls/step", results.Select(r => r.CriticalPathTensors)),
        new DoubleDataFrameColumn("weights MB", results.Select(r => r.WeightBytes / 1e6)), new DoubleDataFrameColumn("cross KV MB", results.Select(r => r.CrossKvBytes / 1e6)));

    /// <summary>The decode study's cells (batch × context): time, ratio, achieved bandwidth and its share of the roofline, K/V sizes.</summary>
    public static DataFrame StudyCells(DecodeStudyResult study) => new(
        new StringDataFrameColumn("variant", study.Cells.Select(c => c.Variant)), new StringDataFrameColumn("engine", study.Cells.Select(c => c.EngineName)),
        new Int32DataFrameColumn("batch", study.Cells.Select(c => c.Batch)), new Int32DataFrameColumn("context", study.Cells.Select(c => c.PromptLength)),
        new DoubleDataFrameColumn("decode ms/token", study.Cells.Select(c => c.DecodeMedianMs)), new StringDataFrameColumn("× baseline-2h [95%]", study.Cells.Select(c => c.RatioText)),
        new DoubleDataFrameColumn("achieved GB/s", study.Cells.Select(c => c.AchievedGBs)),
        new DoubleDataFrameColumn("of roofline", study.Cells.Select(c => c.AchievedGBs / study.Roofline.BandwidthGBs)),
        new DoubleDataFrameColumn("self KV MB", study.Cells.Select(c => c.SelfKvBytes / 1e6)), new DoubleDataFrameColumn("cross KV MB", study.Cells.Select(c => c.CrossKvBytes / 1e6)),
        new BooleanDataFrameColumn("tokens = sequential", study.Cells.Select(c => c.TokensEqualSequential)));

    /// <summary>Notebook 10's latency table: each method's decode time, its ratio to baseline 2h, its weights, and whether its tokens equal the sequential engine's.</summary>
    public static DataFrame Latency(IReadOnlyList<DecodeBenchResult> results) => new(
        new StringDataFrameColumn("method", results.Select(r => $"{r.Variant} {r.EngineName}")),
        new DoubleDataFrameColumn("decode ms/token", results.Select(r => r.DecodeMedianMs)), new DoubleDataFrameColumn("× baseline-2h", results.Select(r => r.RatioToBaseline)),
        new DoubleDataFrameColumn("weights MB", results.Select(r => r.WeightBytes / 1e6)), new BooleanDataFrameColumn("tokens = sequential", results.Select(r => r.TokensEqualSequential)));

    /// <summary>
    /// Notebook 06's comparison with the paper's simulated speed-up: every StagFormer engine against baseline 2h
    /// (measured ratio with its interval, libtorch calls and bytes per step relative to 2h's), the fastest two-pass
    /// engine (recurrent decoding computes another function, so it is not a candidate), and the verdict its interval
    /// gives against <paramref name="paper"/>.
    /// </summary>
    public static PaperSpeedComparison ComparedWithPaper(IReadOnlyList<DecodeBenchResult> results, double paper = 0.67)
    {
        var baseline = results.First(r => r.Variant == "baseline-2h" && r.Engine == EngineKind.Sequential);
        var compared = results.Where(r => r.Variant.StartsWith("separate-2xh") || r.Variant.StartsWith("shared-2xh")).ToList();
        var table = new DataFrame(new StringDataFrameColumn("variant / engine", compared.Select(c => $"{c.Variant} {c.EngineName}")),
            new StringDataFrameColumn("measured × 2h [95%]", compared.Select(c => c.RatioText)),
            new DoubleDataFrameColumn("calls ÷ 2h's", compared.Select(c => (double)c.CriticalPathTensors / baseline.CriticalPathTensors)),
            new DoubleDataFrameColumn("bytes ÷ 2h's", compared.Select(c => c.BytesReadPerStep / baseline.BytesReadPerStep)));
        var best = compared.Where(c => c.Engine != EngineKind.Recurrent).MinBy(c => c.RatioToBaseline)
                   ?? throw new ArgumentException("no two-pass StagFormer engine among the results");
        string simulated = paper.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // A verdict only where the interval decides it: a noisy cell or one round (no interval) decides nothing.
        string verdict = best.Noisy || double.IsNaN(best.RatioLow) ? "inconclusive (no interval, or too noisy to read: rerun on a quiet machine)"
            : best.RatioHigh < 1 && best.RatioLow <= paper ? $"replicated (faster than the baseline, and the interval reaches the simulated {simulated})"
            : best.RatioHigh < 1 ? $"not replicated: faster than the baseline, but the whole interval is above the simulated {simulated}"
            : best.RatioLow > 1 ? "not replicated: slower than the baseline" : "inconclusive (the interval contains 1)";
        return new PaperSpeedComparison(table, best,
            $"paper (simulated): {simulated} × the 2h baseline. Measured here, best two-pass engine: {best.Variant} {best.EngineName} at {best.RatioText} → {verdict}");
    }

    /// <summary>
    /// A PREDICTION, not a measurement: ms per token on the GPU <paramref name="g"/> describes (<see cref="GpuLatencyPrediction"/>), from each
    /// case's measured calls and bytes; the thread engine's whole step issues the sequential engine's calls.
    /// </summary>
    public static DataFrame GpuPrediction(IReadOnlyList<DecodeBenchResult> results, GpuAssumptions g)
    {
        double Gpu(DecodeBenchResult r) => GpuLatencyPrediction.PredictMs(g, r, results);
        double baseline = Gpu(results.First(r => r.Variant == "baseline-2h" && r.Engine == EngineKind.Sequential));
        return new DataFrame(new StringDataFrameColumn("variant / engine", results.Select(r => $"{r.Variant} {r.EngineName}")),
            new DoubleDataFrameColumn($"predicted ms/token on an {g.Device}", results.Select(Gpu)),
            new DoubleDataFrameColumn("predicted × baseline-2h", results.Select(r => Gpu(r) / baseline)));
    }

    /// <summary>Notebook 10's throughput at equal memory (<see cref="DecodeStudy.EqualMemory"/>).</summary>
    public static DataFrame EqualMemory(IReadOnlyList<EqualMemoryRow> rows) => new(
        new StringDataFrameColumn("method", rows.Select(r => r.Method)), new Int32DataFrameColumn("batch that fits", rows.Select(r => r.Batch)),
        new DoubleDataFrameColumn("tokens/s", rows.Select(r => r.TokensPerSecond)), new DoubleDataFrameColumn("memory MB", rows.Select(r => r.MemoryMB)));
}

/// <summary>What <see cref="DecodeTables.ComparedWithPaper"/> gives: the table, the fastest two-pass engine, and the sentence that judges it.</summary>
public sealed record PaperSpeedComparison(DataFrame Table, DecodeBenchResult Best, string Verdict);
