using StagNotebooks.Benchmarks;
using StagNotebooks.Decoding;
using StagNotebooks.Model;

namespace StagNotebooks.Tests.Benchmarks;

/// <summary>The decode-timing protocol: interleaved rounds, a paired interval per ratio, outliers counted, noisy cells not read as ratios.</summary>
public class DecodeProtocolTests
{
    [Fact]
    public void Far_out_steps_are_counted_as_outliers()
    {
        var steps = Enumerable.Range(0, 20).Select(i => 0.9 + 0.01 * i).Append(143.95).ToList();   // one 143.95 ms pause among ~1 ms steps
        Assert.Equal(1, DecodeBenchmark.CountOutliers(steps));
        Assert.Equal(0, DecodeBenchmark.CountOutliers(new[] { 1.0, 1.2, 0.8, 1.1, 0.9 }));
    }

    [Fact]
    public void The_ratio_interval_pairs_rounds_and_needs_two_of_them()
    {
        // A machine that slows down in round 3 slows both arms: paired, the ratio stays 0.5 exactly.
        var (lo, hi) = DecodeBenchmark.RatioInterval(new[] { 1.0, 1.0, 4.0, 1.0 }, new[] { 2.0, 2.0, 8.0, 2.0 });
        Assert.Equal(0.5, lo, 12);
        Assert.Equal(0.5, hi, 12);
        (lo, hi) = DecodeBenchmark.RatioInterval(new[] { 0.9, 1.1, 1.0 }, new[] { 2.0, 2.0, 2.0 });
        Assert.True(lo < 0.5 && hi > 0.5 && hi < 1, $"[{lo}, {hi}]");
        Assert.True(double.IsNaN(DecodeBenchmark.RatioInterval(new[] { 1.0 }, new[] { 2.0 }).Low));
        Assert.True(double.IsNaN(DecodeBenchmark.RatioInterval(new[] { 1.0, 1.0 }, null).High));
    }

    static DecodeBenchResult Result(double median, double p25, double p75, int outliers, int steps = 100) =>
        new("v", EngineKind.Sequential, "sequential", 1, 8, steps, 1, median, p25, p75, 1, median / 2, true, 0, 0, 0, 10, 1, 1)
        { DecodeP25Ms = p25, DecodeP75Ms = p75, Outliers = outliers, RatioLow = 0.4, RatioHigh = 0.6, Rounds = 8 };

    [Fact]
    public void A_noisy_cell_is_flagged_and_plotted_as_a_gap()
    {
        var quiet = Result(1.0, 0.95, 1.05, 2);
        Assert.False(quiet.Noisy);
        Assert.Equal(0.5, quiet.PlottedRatio);
        Assert.Equal("0.500 [0.400, 0.600]", quiet.RatioText);
        Assert.False(Result(1.0, 0.5, 1.6, 0).Noisy);     // a wide IQR alone: the engine's own variation, carried by the interval
        Assert.True(Result(1.0, 0.95, 1.05, 11).Noisy);   // over a tenth of the steps far out: the machine paused
        Assert.True(double.IsNaN(Result(1.0, 0.95, 1.05, 11).PlottedRatio));
        Assert.EndsWith(" noisy", Result(1.0, 0.95, 1.05, 11).RatioText);
    }

    [Fact]
    public void A_run_interleaves_rounds_and_the_baseline_against_itself_is_exactly_one()
    {
        var shape = ModelShapes.Get("tiny-2x1-separate");
        var cases = new[]
        {
            new DecodeBenchCase("baseline-2h", shape with { Stacks = 1, LayersPerStack = 2 }, EngineKind.Sequential),
            new DecodeBenchCase("separate-2xh", shape, EngineKind.Parallel),
        };
        var results = DecodeBenchmark.Run(cases, new DecodeBenchOptions { Steps = 6, Warmup = 1, PromptLength = 4, Rounds = 3 });
        Assert.All(results, r => Assert.Equal(3, r.Rounds));
        Assert.Equal(1.0, results[0].RatioLow, 12);
        Assert.Equal(1.0, results[0].RatioHigh, 12);
        Assert.True(results[1].RatioLow <= results[1].RatioHigh);
        Assert.Throws<ArgumentException>(() => DecodeBenchmark.Run(cases, new DecodeBenchOptions { Steps = 2, Rounds = 0 }));
    }
}
