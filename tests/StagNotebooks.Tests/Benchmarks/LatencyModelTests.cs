using StagNotebooks.Benchmarks;
using StagNotebooks.Decoding;
using StagNotebooks.Model;
using StagNotebooks.Training;

namespace StagNotebooks.Tests.Benchmarks;

public class LatencyModelTests
{
    static DecodeBenchResult Cell(long calls, double bytes, double ms) =>
        new("v", EngineKind.Sequential, "sequential", 1, 1, 1, 0, ms, ms, ms, 1, 1, true, 0, 0, 0, calls, bytes, 0);

    [Fact]
    public void The_fit_recovers_known_coefficients()
    {
        // t = 0.2 ms + 4 µs·calls + bytes / 20 GB/s
        var cells = new List<DecodeBenchResult>();
        foreach (var calls in new long[] { 100, 400, 900 })
            foreach (var bytes in new[] { 1e6, 2e7, 8e7 })
                cells.Add(Cell(calls, bytes, 0.2 + 0.004 * calls + bytes / 20e9 * 1e3));
        var m = LatencyModel.Fit(cells);
        Assert.Equal(0.2, m.FixedMs, 6);
        Assert.Equal(0.004, m.MsPerCall, 9);
        Assert.Equal(20, m.BandwidthGBs, 4);
        Assert.Equal(1, m.RSquared, 9);
    }

    [Fact]
    public void Too_few_cells_is_a_clear_error()
    {
        var e = Assert.Throws<ArgumentException>(() => LatencyModel.Fit(new[] { Cell(1, 1, 1) }));
        Assert.Equal("a latency fit needs at least 3 measured cells (got 1)", e.Message);
    }

    [Fact]
    public void Staggering_reads_more_bytes_and_batching_shared_weights_reads_them_once()
    {
        var shape = ModelShapes.Get("cpu-2xh-separate");
        var baseline = ModelVariants.Apply(shape, "baseline-2h");
        var separate = ModelVariants.Apply(shape, "separate-2xh");
        var shared = ModelVariants.Apply(shape, "shared-2xh");
        double b = DecodeCost.PerStep(baseline, EngineKind.Sequential, 1, 128, 4).Bytes;
        double s = DecodeCost.PerStep(separate, EngineKind.Parallel, 1, 128, 4).Bytes;
        Assert.True(s > b, "the cross-attention weights and cross KV are extra reads");
        Assert.True(DecodeCost.PerStep(shared, EngineKind.Stacked, 1, 128, 4).Bytes < DecodeCost.PerStep(shared, EngineKind.Parallel, 1, 128, 4).Bytes);
        // KV reads grow with batch × context, weights do not.
        double growth = DecodeCost.PerStep(separate, EngineKind.Parallel, 8, 1024, 4).Bytes - s;
        Assert.Equal(2.0 * shape.DModel * shape.LayersPerStack * (2 * (8 * 1024 - 128) + (8 * 1024 - 128)) * 4, growth, 0);
    }

    [Fact]
    public void The_wide_and_shallow_baseline_matches_the_staggered_models_parameters_at_its_depth()
    {
        var shape = ModelShapes.Get("cpu-2xh-separate");
        var wide = ModelVariants.WideShallow(shape);
        static long NonEmbedding(StagFormerConfig c) => ParameterReport.Expected(c).Where(g => g.Stack != "embedding").Sum(g => g.Count);
        Assert.Equal(1, wide.Stacks);
        Assert.Equal(shape.LayersPerStack, wide.LayersPerStack);
        double target = NonEmbedding(ModelVariants.Apply(shape, "separate-2xh"));
        Assert.InRange(NonEmbedding(wide) / target, 0.95, 1.05);
        var sharedMatched = ModelVariants.Apply(shape, "wide-h-shared-matched");
        Assert.InRange(NonEmbedding(sharedMatched) / (double)NonEmbedding(ModelVariants.Apply(shape, "shared-2xh")), 0.93, 1.07);
        Assert.True(sharedMatched.DModel < wide.DModel);
    }
}

public class StackedCostTests
{
    [Fact]
    public void The_stacked_engine_reads_what_the_others_read_and_shared_weights_once()
    {
        var shape = ModelShapes.Get("cpu-2xh-separate");
        var separate = ModelVariants.Apply(shape, "separate-2xh");
        var shared = ModelVariants.Apply(shape, "shared-2xh");
        Assert.Equal(DecodeCost.PerStep(separate, EngineKind.Parallel, 4, 128, 4).Bytes, DecodeCost.PerStep(separate, EngineKind.Stacked, 4, 128, 4).Bytes);
        Assert.True(DecodeCost.PerStep(shared, EngineKind.Stacked, 1, 128, 4).Bytes < DecodeCost.PerStep(shared, EngineKind.Parallel, 1, 128, 4).Bytes);
    }

    [Fact]
    public void The_gpu_prediction_is_launch_bound_at_batch_1_and_counts_every_kernel_on_one_stream()
    {
        var g = GpuAssumptions.H200;
        // Measured calls/step at cpu-h, batch 1: baseline 2h 192; separate 2×h sequential 337, threads 150 (critical path), stacked 127.
        double bytes = 30e6;
        double baseline = GpuLatencyPrediction.PredictMs(g, 192, 192, bytes);
        double threads = GpuLatencyPrediction.PredictMs(g, 150, 337, bytes);
        double stacked = GpuLatencyPrediction.PredictMs(g, 127, 127, bytes);
        Assert.Equal(192 * g.LaunchUs / 1e3, baseline, 9);                 // launch-bound: the bytes take 6 µs
        Assert.True(stacked < baseline && stacked < threads, $"stacked {stacked}, baseline {baseline}, threads {threads}");
        Assert.Equal(337 * g.KernelUs / 1e3 + bytes / 4.8e12 * 1e3, threads, 9);   // one stream: every stack's kernels in a row
        // Bandwidth-bound when the bytes are large.
        Assert.Equal(127 * g.KernelUs / 1e3 + 48.0, GpuLatencyPrediction.PredictMs(g, 127, 127, 0.048 * 4.8e12), 6);   // 48 ms of bytes
    }
}
