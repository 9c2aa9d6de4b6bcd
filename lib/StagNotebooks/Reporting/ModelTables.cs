using System.Globalization;
using Microsoft.Data.Analysis;
using StagNotebooks.Benchmarks;
using StagNotebooks.Decoding;
using StagNotebooks.Model;
using StagNotebooks.Training;

namespace StagNotebooks.Reporting;

/// <summary>Tables about models: the paper's sizes (notebook 02), trained arms' final loss (03), cross-attention memory (05), stack counts (10).</summary>
public static class ModelTables
{
    /// <summary>Parameters of model shapes in billions: total, cross-attention and embedding.</summary>
    public static DataFrame PaperParameters(IReadOnlyList<string> shapes)
    {
        var totals = shapes.Select(s => ParameterReport.Expected(ModelShapes.Get(s))).ToList();
        double Of(IEnumerable<ParameterGroup> t, string component) => t.Where(g => g.Component == component).Sum(g => (double)g.Count) / 1e9;
        return new DataFrame(new StringDataFrameColumn("shape", shapes),
            new DoubleDataFrameColumn("parameters (B)", totals.Select(t => ParameterReport.Total(t) / 1e9)),
            new DoubleDataFrameColumn("cross-attention (B)", totals.Select(t => Of(t, "cross-attention"))),
            new DoubleDataFrameColumn("embedding (B)", totals.Select(t => Of(t, "embedding"))));
    }

    /// <summary>One row per arm: best validation loss (mean, sd over seeds), parameters in millions, training tokens/s (first seed, after 5 warm-up records).</summary>
    public static DataFrame FinalValidation(IReadOnlyList<Trained> models) => new(
        new StringDataFrameColumn("model", models.Select(m => m.Label)),
        new DoubleDataFrameColumn("best val loss", models.Select(m => m.ValLoss)),
        new DoubleDataFrameColumn("± sd", models.Select(m => m.ValLossSd)),
        new DoubleDataFrameColumn("parameters (M)", models.Select(m => ParameterReport.Total(ParameterReport.Expected(m.Seeds[0].Run.Config.Model)) / 1e6)),
        new DoubleDataFrameColumn("tokens/s", models.Select(m => m.Seeds[0].Metrics.Skip(5).Select(x => x.TokensPerSecond).DefaultIfEmpty(double.NaN).Average())));

    /// <summary>One row per arm: the cross-attention K/V one sequence of <paramref name="context"/> tokens holds, in kB (what a window saves).</summary>
    public static DataFrame CrossKv(IReadOnlyList<Trained> models, int context) => new(
        new StringDataFrameColumn("model", models.Select(m => m.Label)),
        new DoubleDataFrameColumn("cross KV per sequence (kB)", models.Select(m => MemoryReport.For(m.Seeds[0].Run.Config.Model, 1, context).CrossKvBytes / 1e3)));

    /// <summary>One row per arm: stacks p (so the lag p − 1), layers per stack, and the best validation loss over seeds.</summary>
    public static DataFrame Stacks(IReadOnlyList<Trained> models) => new(
        new StringDataFrameColumn("model", models.Select(m => m.Label)),
        new Int32DataFrameColumn("stacks p (lag p−1)", models.Select(m => m.Seeds[0].Run.Config.Model.Stacks)),
        new Int32DataFrameColumn("layers per stack", models.Select(m => m.Seeds[0].Run.Config.Model.LayersPerStack)),
        new StringDataFrameColumn("val loss", models.Select(m => m.ValLossText)));

    /// <summary>
    /// Notebook 10's summary: for each way to decode faster than baseline 2h, its best validation loss over seeds
    /// (<paramref name="models"/> by label), its decode time over baseline 2h's (<paramref name="latency"/>, looked up
    /// by variant and engine; speculative decoding's end-to-end ratio is <paramref name="speculativeRatio"/>), and its
    /// weights in MB at <paramref name="shape"/> (speculative decoding holds the draft's too).
    /// </summary>
    public static DataFrame MethodsSummary(IReadOnlyList<Trained> models, IReadOnlyList<DecodeBenchResult> latency, double speculativeRatio, StagFormerConfig shape)
    {
        string Loss(string label) => models.First(m => m.Label == label).ValLossText;
        string Ratio(string variant, EngineKind engine) => latency.First(r => r.Variant == variant && r.Engine == engine).RatioToBaseline.ToString("F2", CultureInfo.InvariantCulture);
        double WeightsMB(string variant) => MemoryReport.For(ModelVariants.Apply(shape, variant), 1, 1).WeightBytes / 1e6;
        var rows = new (string Method, string Loss, string Ratio, double WeightsMB)[]
        {
            ("baseline 2h", Loss("baseline-2h"), "1.00", WeightsMB("baseline-2h")),
            ("wide-and-shallow h", Loss("wide-h"), Ratio("wide-h", EngineKind.Sequential), WeightsMB("wide-h")),
            ("StagFormer separate 2×h, parallel", Loss("separate-2xh"), Ratio("separate-2xh", EngineKind.Parallel), WeightsMB("separate-2xh")),
            ("StagFormer shared 2×h, stacked", Loss("shared-2xh") + $" (matched wide-h: {Loss("wide-h-shared-matched")})", Ratio("shared-2xh", EngineKind.Stacked), WeightsMB("shared-2xh")),
            ("StagFormer shared 2×h, recurrent", Loss("shared-2xh") + " (two-pass; see 07)", Ratio("shared-2xh", EngineKind.Recurrent), WeightsMB("shared-2xh")),
            ("non-staggered control", Loss("separate-2xh-nonstaggered"), Ratio("separate-2xh-nonstaggered", EngineKind.Sequential) + " (no parallelism)", WeightsMB("separate-2xh-nonstaggered")),
            ("speculative (h drafts for 2h)", Loss("baseline-2h"), speculativeRatio.ToString("F2", CultureInfo.InvariantCulture), WeightsMB("baseline-2h") + WeightsMB("baseline-h")),
        };
        return new DataFrame(new StringDataFrameColumn("method", rows.Select(r => r.Method)), new StringDataFrameColumn("val loss", rows.Select(r => r.Loss)),
            new StringDataFrameColumn("decode × baseline-2h", rows.Select(r => r.Ratio)),
            new StringDataFrameColumn("weights MB", rows.Select(r => r.WeightsMB.ToString("F1", CultureInfo.InvariantCulture))));
    }
}
