using StagNotebooks.Benchmarks;
using StagNotebooks.Decoding;
using StagNotebooks.Runtime;
using StagNotebooks.Model;

namespace StagNotebooks.Experiments;

public sealed record DecodeStudyOptions
{
    public int[] Batches { get; init; } = { 1, 4, 16, 64 };
    /// <summary>Prompt lengths (context reached before the timed steps).</summary>
    public int[] Contexts { get; init; } = { 32, 128 };
    public int Steps { get; init; } = 24;
    public int Warmup { get; init; } = 4;
    public string Device { get; init; } = "cpu";
    public string Dtype { get; init; } = "float32";
}

/// <summary>Predicted decode time of StagFormer 2×h (parallel engine) over the 2h-layer baseline at one batch and context.</summary>
public sealed record SpeedupPrediction(int Batch, int Context, double BaselineMs, double StaggeredMs, double Ratio);

/// <summary>One method decoding at the largest batch whose weights and caches fit a memory budget: its tokens/s and the memory it uses.</summary>
public sealed record EqualMemoryRow(string Method, int Batch, double TokensPerSecond, double MemoryMB);

public sealed record DecodeStudyResult(IReadOnlyList<DecodeBenchResult> Cells, LatencyModel Model, IReadOnlyList<SpeedupPrediction> Predictions, Roofline Roofline);

/// <summary>
/// The decode latency study: every variant × engine × batch × context on one device, one interleaved run per
/// (batch, context) cell, then a <see cref="LatencyModel"/> fitted to all cells and used to predict where the
/// staggered model stops paying.
/// </summary>
public static class DecodeStudy
{
    /// <summary>Everything the study compares, built from the h-layer shape.</summary>
    public static IReadOnlyList<DecodeBenchCase> Cases(StagFormerConfig shape)
    {
        var standard = DecodeBenchmark.StandardCases(shape).ToList();
        StagFormerConfig V(string v) => ModelVariants.Apply(shape with { Stacks = 2 }, v);
        standard.Add(new("wide-h", ModelVariants.WideShallow(shape), EngineKind.Sequential));
        foreach (var v in new[] { "separate-2xh-w8", "separate-3xh", "separate-4xh" })
        {
            standard.Add(new(v, V(v), EngineKind.Sequential));
            standard.Add(new(v, V(v), EngineKind.Parallel));
        }
        return standard;
    }

    public static DecodeStudyResult Run(StagFormerConfig shape, DecodeStudyOptions o, Action<string>? log = null)
    {
        var cases = Cases(shape);
        var cells = new List<DecodeBenchResult>();
        foreach (int context in o.Contexts)
            foreach (int batch in o.Batches)
            {
                log?.Invoke($"— batch {batch}, context {context}");
                cells.AddRange(DecodeBenchmark.Run(cases, new DecodeBenchOptions
                {
                    Batch = batch, PromptLength = context, Steps = o.Steps, Warmup = o.Warmup, Device = o.Device, Dtype = o.Dtype,
                }, log));
            }
        var model = LatencyModel.Fit(cells);
        var roofline = Roofline.Measure(Runtime.TorchRuntime.ResolveDevice(o.Device));
        return new DecodeStudyResult(cells, model, Predict(shape, cells, model, o.Dtype), roofline);
    }

    /// <summary>
    /// Extends the measured grid: calls per step barely depend on batch and context (measured medians are used),
    /// bytes grow with them (computed), so the fitted model gives the ratio anywhere.
    /// </summary>
    public static IReadOnlyList<SpeedupPrediction> Predict(StagFormerConfig shape, IReadOnlyList<DecodeBenchResult> cells, LatencyModel model, string dtype)
    {
        double Calls(string variant, EngineKind engine) =>
            DecodeBenchmark.Percentile(cells.Where(c => c.Variant == variant && c.Engine == engine).Select(c => (double)c.CriticalPathTensors).ToList(), 0.5);
        var baseline = ModelVariants.Apply(shape with { Stacks = 2 }, "baseline-2h");
        var staggered = ModelVariants.Apply(shape with { Stacks = 2 }, "separate-2xh");
        double callsBase = Calls("baseline-2h", EngineKind.Sequential), callsStag = Calls("separate-2xh", EngineKind.Parallel);
        int bytesPer = DecodeBenchmark.ParseDtype(dtype) == TorchSharp.torch.ScalarType.Float32 ? 4 : 2;
        var list = new List<SpeedupPrediction>();
        foreach (int batch in new[] { 1, 2, 4, 8, 16, 32, 64, 128, 256 })
            foreach (int context in new[] { 64, 128, 256, 512, 1024, 2048, 4096, 8192 })
            {
                double b = model.PredictMs(callsBase, DecodeCost.PerStep(baseline, EngineKind.Sequential, batch, context, bytesPer).Bytes);
                double s = model.PredictMs(callsStag, DecodeCost.PerStep(staggered, EngineKind.Parallel, batch, context, bytesPer).Bytes);
                list.Add(new SpeedupPrediction(batch, context, b, s, s / b));
            }
        return list;
    }

    /// <summary>
    /// Throughput at equal memory: the budget is what <paramref name="budgetVariant"/> needs at batch
    /// <paramref name="budgetBatch"/> and <paramref name="context"/>; every method decodes at the largest batch (≤ 256)
    /// whose weights and caches fit it (<see cref="MemoryReport.For"/>), <paramref name="steps"/> timed steps after 2 of warm-up.
    /// </summary>
    public static IReadOnlyList<EqualMemoryRow> EqualMemory(StagFormerConfig shape, IEnumerable<(string Variant, EngineKind Engine)> methods, int context, int steps,
                                                            string budgetVariant = "baseline-2h", int budgetBatch = 8, string device = "cpu")
    {
        StagFormerConfig V(string v) => ModelVariants.Apply(shape, v);
        long budget = MemoryReport.For(V(budgetVariant), budgetBatch, context).TotalBytes;
        return methods.Select(m =>
        {
            var c = V(m.Variant);
            int batch = Enumerable.Range(1, 256).Where(b => MemoryReport.For(c, b, context).TotalBytes <= budget).DefaultIfEmpty(1).Max();
            var r = DecodeBenchmark.Run(new[] { new DecodeBenchCase(m.Variant, c, m.Engine) },
                new DecodeBenchOptions { Batch = batch, Steps = steps, PromptLength = 16, Warmup = 2, Device = device })[0];
            return new EqualMemoryRow($"{m.Variant} {m.Engine.Name()}", batch, r.TokensPerSecond, MemoryReport.For(c, batch, context).TotalBytes / 1e6);
        }).ToList();
    }
}
