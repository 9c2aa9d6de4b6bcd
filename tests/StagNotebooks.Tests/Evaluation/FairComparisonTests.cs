using StagNotebooks.Cli;
using StagNotebooks.Cli.Commands;
using StagNotebooks.Evaluation;
using StagNotebooks.Training;
using StagNotebooks.Workbench;
using StagNotebooks.Reporting;
using StagNotebooks.Experiments;

namespace StagNotebooks.Tests.Evaluation;

/// <summary>The regime ladder (gaps against h) and the learning-rate sweep (each arm at its own rate, held-out seeds).</summary>
public class FairComparisonTests
{
    static Trained Arm(string label, params double[] losses) =>
        new(label, losses.Select(l => new TrainResult(null!, 1, l, l, Array.Empty<StepMetrics>(), false)).ToList());

    static LadderRung Rung(int h, double[] baseH, double[] base2H, double[] sep, double[] shared) => new(h, new[]
    {
        Arm(RegimeLadder.Label("baseline-h", h), baseH), Arm(RegimeLadder.Label("baseline-2h", h), base2H),
        Arm(RegimeLadder.Label("separate-2xh", h), sep), Arm(RegimeLadder.Label("shared-2xh", h), shared),
    });

    [Fact]
    public void A_rung_is_the_presets_recipe_at_h_layers_per_stack_and_baseline_2h_stays_twice_h()
    {
        var plain = ExperimentRuns.Config("smoke", "baseline-2h", 64);
        Assert.Equal(plain, ExperimentRuns.Config("smoke", "baseline-2h", 64, h: plain.Model.LayersPerStack / 2));   // h equal to the preset's: the same run
        var at3 = ExperimentRuns.Config("smoke", "baseline-2h", 64, h: 3);
        Assert.Equal(6, at3.Model.LayersPerStack);
        Assert.Equal(plain with { Model = plain.Model with { LayersPerStack = 6 } }, at3);   // only the depth changes
        var sep = ExperimentRuns.Config("smoke", "separate-2xh", 64, h: 3).Model;
        Assert.Equal((2, 3), (sep.Stacks, sep.LayersPerStack));
        Assert.Equal(new[] { "baseline-h@h3", "baseline-2h@h3", "separate-2xh@h3", "shared-2xh@h3" }, RegimeLadder.Arms(3).Select(a => a.Label));
    }

    [Fact]
    public void The_ladder_table_and_chart_carry_paired_gaps_with_intervals_per_h()
    {
        var rungs = new[]
        {
            Rung(1, new[] { 3.60, 3.62, 3.64 }, new[] { 3.50, 3.52, 3.54 }, new[] { 3.90, 3.92, 3.94 }, new[] { 3.80, 3.83, 3.84 }),
            Rung(2, new[] { 3.50, 3.52, 3.54 }, new[] { 3.40, 3.42, 3.44 }, new[] { 3.41, 3.44, 3.44 }, new[] { 3.45, 3.47, 3.50 }),
        };
        var t = LadderReport.Table(rungs);
        Assert.Equal(2 * RegimeLadder.Gaps.Count, t.Rows.Count);
        Assert.Equal("separate 2×h − baseline 2h", t["gap"][0]);
        Assert.Equal("+0.4", t["difference"][0]);                  // every seed 0.40 worse: zero spread
        Assert.Equal("[+0.4, +0.4]", t["95% interval"][0]);
        Assert.Equal("+0.01", t["difference"][RegimeLadder.Gaps.Count]);   // h = 2: 0.01, 0.02, 0.00
        var chart = LadderReport.Chart(rungs);
        Assert.Equal(RegimeLadder.Gaps.Count, chart.Data.Count);   // one line per gap, its intervals as error bars
        Assert.Equal("[1,2]", chart.Data[0]!["x"]!.ToJsonString());
        Assert.NotNull(chart.Data[0]!["error_y"]);
    }

    [Fact]
    public void A_sweep_arm_sets_the_peak_rate_and_scales_the_minimum_with_it()
    {
        var p = Presets.Config("smoke");
        var arm = LearningRateSweep.Arm("smoke", "separate-2xh", p.LearningRate * 2);
        var c = ExperimentRuns.Config("smoke", arm.Variant, 64, overrides: arm.Overrides);
        Assert.Equal(p.LearningRate * 2, c.LearningRate, 12);
        Assert.Equal(p.MinLearningRate * 2, c.MinLearningRate, 12);
        Assert.Equal(new[] { p.LearningRate / 2, p.LearningRate, p.LearningRate * 2 }, LearningRateSweep.DefaultRates("smoke"));
    }

    [Fact]
    public void The_best_rate_is_the_lowest_mean_loss_and_the_table_marks_it()
    {
        var cells = new[]
        {
            new SweepCell("baseline-h", 1e-3, Arm("a", 3.7, 3.72)), new SweepCell("baseline-h", 2e-3, Arm("b", 3.6, 3.64)),
            new SweepCell("baseline-h", 4e-3, Arm("c", 3.65, 3.66)), new SweepCell("separate-2xh", 1e-3, Arm("d", 3.5, 3.52)),
            new SweepCell("separate-2xh", 2e-3, Arm("e", 3.8, 3.81)),
        };
        Assert.Equal(2e-3, LearningRateSweep.Best(cells)["baseline-h"]);
        Assert.Equal(1e-3, LearningRateSweep.Best(cells)["separate-2xh"]);
        var t = SweepReport.Table(cells);
        // baseline h's choice lies inside the rates swept; separate 2×h's is the lowest, so the table says the best may be lower.
        Assert.Equal(new[] { "", "yes", "", "yes (the lowest rate swept: the best may be lower)", "" }, Enumerable.Range(0, 5).Select(i => (string)t["chosen"][i]));
    }

    [Fact]
    public void The_sweep_trains_on_held_out_seeds_and_refuses_what_cannot_choose()
    {
        using var tmp = new TestPaths.TempDir();
        var data = ExperimentRuns.Data();
        var e = Assert.Throws<ArgumentException>(() => LearningRateSweep.Run("smoke", new[] { "baseline-h" }, new[] { 1e-2 }, 2, data, tmp.Path));
        Assert.Equal("a sweep needs at least two positive rates (got 0.01)", e.Message);
        e = Assert.Throws<ArgumentException>(() => LearningRateSweep.Run("smoke", new[] { "baseline-h" }, new[] { 1e-2, 2e-2 }, 1, data, tmp.Path));
        Assert.Equal("a sweep needs at least 2 seeds to tell rates apart (got 1)", e.Message);
        var cells = LearningRateSweep.Run("smoke", new[] { "baseline-h" }, new[] { 5e-3, 1e-2 }, 2, data, tmp.Path);
        Assert.Equal(2, cells.Count);
        Assert.All(cells, c => Assert.Equal(new long[] { LearningRateSweep.FirstSeed, LearningRateSweep.FirstSeed + 1 }, c.Runs.Seeds.Select(r => r.Run.Config.Seed)));
        Assert.Equal(new[] { 5e-3, 1e-2 }, cells.Select(c => c.Runs.Seeds[0].Run.Config.LearningRate));
    }

    [Fact]
    public void Bad_command_line_lists_are_named()
    {
        var e = Assert.Throws<CliException>(() => BenchLadderCommand.ParseInts("1,x", "--h"));
        Assert.Equal("--h: 'x' is not a positive integer (expected e.g. 1,2,3)", e.Message);
        Assert.Throws<CliException>(() => BenchLadderCommand.ParseInts("0", "--h"));
    }
}
