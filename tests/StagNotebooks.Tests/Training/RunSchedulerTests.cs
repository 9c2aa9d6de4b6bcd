using System.Diagnostics;
using StagNotebooks.Benchmarks;
using StagNotebooks.Data;
using StagNotebooks.Training;
using StagNotebooks.Workbench;
using Xunit;

namespace StagNotebooks.Tests.Training;

/// <summary>The run service's scheduler: runs side by side in worker processes give the same bytes as one at a time; the plan's estimate; the bench's record.</summary>
public class RunSchedulerTests
{
    [Fact]
    public void Runs_trained_two_at_a_time_in_workers_are_byte_identical_to_one_at_a_time()
    {
        Assert.NotNull(RunScheduler.WorkerPath());   // the test needs lib/Stag built, as `dotnet test` builds it
        using var dir = new TestPaths.TempDir();
        var log = new List<string>();
        var levels = ConcurrencyBenchmark.Run("smoke", new[] { "baseline-h", "separate-2xh" }, seeds: 2, steps: 12, new[] { 1, 2 }, "cpu", dir.Path,
                                              line => { lock (log) log.Add(line); });
        Assert.Contains(log, l => l.Contains("4 of 4 runs to train (0 reused), 2 at a time"));   // level 2 really ran workers
        Assert.All(levels, l => Assert.True(l.Identical, l.FirstDifference));
        // Reused the second time: nothing trains, and the results are the finished runs'.
        var data = PackedDataset.PrepareBundled(Presets.Tokenizer("smoke"));
        var again = RunScheduler.TrainAll(new[] { Request(data, "baseline-h", 1, 12, onlySteps: true) }, new RunOptions(Path.Combine(dir.Path, "concurrency-2-repeat-1"), "cpu", 2));
        Assert.True(again[0].Reused);
    }

    [Fact]
    public void The_estimate_before_training_is_within_twice_the_time_it_took_on_smoke()
    {
        using var dir = new TestPaths.TempDir();
        var data = PackedDataset.PrepareBundled(Presets.Tokenizer("smoke"));
        // Six runs (a few seconds): long enough that one pause of this shared machine does not decide the ratio.
        var requests = new[] { "baseline-h", "baseline-2h", "separate-2xh" }.SelectMany(v => new[] { Request(data, v, 1, null), Request(data, v, 2, null) }).ToArray();
        var options = new RunOptions(dir.Path, "cpu", 1);
        RunService.TrainOrReuse(Request(data, "baseline-2h", 7, 4), options);   // warm this process (TorchSharp, the roofline) as a series would be
        double estimate = RunEstimate.Of(requests, options, 1);
        var clock = Stopwatch.StartNew();
        RunScheduler.TrainAll(requests, options);
        double measured = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"estimate-check: estimated {estimate:F2} s, took {measured:F2} s");
        Assert.True(estimate / measured is >= 0.5 and <= 2.0, $"estimated {estimate:F2} s, took {measured:F2} s");
    }

    [Fact]
    public void The_series_progress_reaches_every_run()
    {
        using var dir = new TestPaths.TempDir();
        var data = PackedDataset.PrepareBundled(Presets.Tokenizer("smoke"));
        var seen = new List<SeriesProgress>();
        var results = RunScheduler.TrainAll(new[] { Request(data, "baseline-h", 1, 6), Request(data, "baseline-h", 2, 6) }, new RunOptions(dir.Path, "cpu", 1), seen.Add);
        Assert.Equal(new[] { 6, 6 }, results.Select(r => r.Steps));
        Assert.Equal(2, seen[^1].Done);
        Assert.Equal(2, seen[^1].Total);
        Assert.StartsWith("training 2/2 done", seen[^1].ToString());
        Assert.Equal(0, seen[^1].SecondsLeft);
    }

    [Fact]
    public void A_plan_counts_what_would_train_and_creates_nothing()
    {
        using var dir = new TestPaths.TempDir();
        var data = PackedDataset.PrepareBundled(Presets.Tokenizer("smoke"));
        var requests = new[] { Request(data, "baseline-h", 1, 6), Request(data, "baseline-h", 2, 6) };
        var options = new RunOptions(dir.Path, "cpu", 1);
        var before = RunScheduler.Plan(requests, options);
        Assert.Equal((2, 2, 1), (before.Total, before.ToTrain, before.Concurrency));
        Assert.True(before.EstimatedSeconds > 0);
        Assert.Empty(Directory.GetDirectories(dir.Path));
        RunScheduler.TrainAll(requests.Take(1).ToList(), options);
        var after = RunScheduler.Plan(requests, options);
        Assert.Equal("1 of 2 runs to train (1 reused), 1 at a time: about " + RunEstimate.Words(after.EstimatedSeconds), after.ToString());
    }

    [Fact]
    public void Time_left_weighs_each_run_by_its_estimate_not_by_its_steps()
    {
        using var dir = new TestPaths.TempDir();
        var data = PackedDataset.PrepareBundled(Presets.Tokenizer("smoke"));
        // Same shape, 6 and 600 steps (planned, not trained): one measured pace, so the second run is estimated far longer.
        var plan = RunScheduler.Plan(new[] { Request(data, "baseline-h", 1, 6), Request(data, "baseline-h", 2, 600) }, new RunOptions(dir.Path, "cpu", 1));
        Assert.Equal(2, plan.RunSeconds.Count);
        Assert.True(plan.RunSeconds[1] > 4 * plan.RunSeconds[0], $"estimated {plan.RunSeconds[0]:F2} s and {plan.RunSeconds[1]:F2} s");
        Assert.Equal(plan.EstimatedSeconds, plan.RunSeconds.Sum(), 6);
        // The first run (1 of 11 units of work) took 5 s: 10 units left at that pace is 50 s, not the 5 s one run of two would say.
        Assert.Equal(50, RunScheduler.TimeLeft(11, 1, 5, estimate: 99), 9);
        Assert.Equal(99, RunScheduler.TimeLeft(11, 0, 5, estimate: 99));
        Assert.Equal(0, RunScheduler.TimeLeft(11, 11, 60, estimate: 99));
    }

    [Fact]
    public void A_progress_line_round_trips()
    {
        var line = RunScheduler.ProgressLine(new TrainProgress(7, 40, new StepMetrics(7, 896, 5.4321, 1e-3, 0.5, 1234.5, null, 3.25)));
        Assert.Equal((7, 40, 5.4321, 1234.5, 3.25), RunScheduler.ParseProgress(line));
        Assert.Null(RunScheduler.ParseProgress("cache hit: data/packed/brown-bpe"));
    }

    [Fact]
    public void Auto_concurrency_is_what_the_bench_recorded_for_this_core_count_else_one()
    {
        using var dir = new TestPaths.TempDir();
        Assert.Equal(1, ConcurrencyChoice.For("cpu-fidelity", dir.Path));
        ConcurrencyChoice.Record(dir.Path, "cpu-fidelity", 2, new Dictionary<int, double> { [1] = 10, [2] = 17 });
        ConcurrencyChoice.Record(dir.Path, "smoke", 1, new Dictionary<int, double> { [1] = 100 });
        Assert.Equal(2, ConcurrencyChoice.For("cpu-fidelity", dir.Path));
        Assert.Equal(1, ConcurrencyChoice.For("cpu-small", dir.Path));
        File.WriteAllText(dir.File(ConcurrencyChoice.FileName), "{ not json");
        var e = Assert.Throws<InvalidDataException>(() => ConcurrencyChoice.For("cpu-fidelity", dir.Path));
        Assert.StartsWith(dir.File(ConcurrencyChoice.FileName) + ": not a concurrency record", e.Message);
    }

    [Fact]
    public void A_bad_concurrency_setting_is_an_error_naming_it()
    {
        var before = Environment.GetEnvironmentVariable(NotebookSession.ConcurrencyVariable);
        try
        {
            Environment.SetEnvironmentVariable(NotebookSession.ConcurrencyVariable, "two");
            var e = Assert.Throws<ArgumentException>(() => NotebookSession.Concurrency);
            Assert.Equal("STAG_CONCURRENCY=two: expected auto or a whole number ≥ 1", e.Message);
            Environment.SetEnvironmentVariable(NotebookSession.ConcurrencyVariable, "auto");
            Assert.Equal(0, NotebookSession.Concurrency);
        }
        finally { Environment.SetEnvironmentVariable(NotebookSession.ConcurrencyVariable, before); }
    }

    static RunRequest Request(PackedDataset data, string variant, long seed, int? steps, bool onlySteps = false) =>
        new(Presets.ConfigFor("smoke", variant, data.Manifest.VocabSize, seed,
                              steps is not int s ? null : onlySteps ? new[] { $"MaxSteps={s}" } : new[] { $"MaxSteps={s}", "EvalEvery=4", "CheckpointEvery=4" }),
            variant, new PackedRunData(data));
}
