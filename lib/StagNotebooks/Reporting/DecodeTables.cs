using Microsoft.Data.Analysis;
using StagNotebooks.Benchmarks;

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
}
