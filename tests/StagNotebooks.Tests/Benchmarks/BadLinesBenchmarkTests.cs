using StagNotebooks.Benchmarks;
using StagNotebooks.Cli;
using StagNotebooks.Cli.Commands;

namespace StagNotebooks.Tests.Benchmarks;

/// <summary>What `stag bench data --cases bad-lines` compares, on a small shard (the speeds themselves are for the benchmark, not the tests).</summary>
public class BadLinesBenchmarkTests
{
    [Fact]
    public void Both_shards_have_the_same_lines_and_the_dirty_one_the_asked_number_of_bad_lines()
    {
        var results = BadLinesBenchmark.Run(lines: 20_000, bad: 20, repeats: 1);
        Assert.Equal(new[] { ("clean", 20_000L, 0L), ("bad-lines", 20_000L, 20L) }, results.Select(r => (r.Case, r.Lines, r.BadLines)));
        Assert.All(results, r => Assert.True(r.Bytes > 20_000 * 20 && r.MegabytesPerSecond > 0 && r.BestMegabytesPerSecond >= r.MegabytesPerSecond && r.Repeats == 1, r.ToString()));
        Assert.Equal((1.0, 1.0), (results[0].RelativeToClean, results[0].BestRelativeToClean));
        Assert.Equal(results[1].MegabytesPerSecond / results[0].MegabytesPerSecond, results[1].RelativeToClean, 12);
        Assert.InRange(results[1].Bytes / (double)results[0].Bytes, 0.99, 1.01);   // the same lines, 20 in 20,000 of them spoiled
    }

    [Fact]
    public void Bad_lines_are_spread_evenly_and_the_arguments_are_checked()
    {
        Assert.Equal(new long[] { 3, 8 }, BadLinesBenchmark.BadLineNumbers(10, 2));
        Assert.Equal(new long[] { 501, 1501, 2501, 3501 }, BadLinesBenchmark.BadLineNumbers(4000, 4));
        var e = Assert.Throws<ArgumentException>(() => BadLinesBenchmark.Run(lines: 10, bad: 11));
        Assert.Equal("bench bad-lines: need 0 ≤ bad (11) ≤ lines (10) and lines ≥ 1", e.Message);
        var bench = new BenchDataCommand();
        var c = Assert.Throws<CliException>(() => bench.Run(CommandLine.Parse(new[] { "--cases", "bad-line" }, bench.Switches)));
        Assert.Equal("--cases: unknown case 'bad-line' (the cases: tokenizers, bad-lines)", c.Message);
    }
}
