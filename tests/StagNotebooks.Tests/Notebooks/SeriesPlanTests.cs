using StagNotebooks.Experiments;
using StagNotebooks.Notebooks;
using StagNotebooks.Training;

namespace StagNotebooks.Tests.Notebooks;

public class SeriesPlanTests
{
    static readonly string[] Core = { "baseline-h", "baseline-2h", "separate-2xh", "shared-2xh" };

    [Fact]
    public void Every_train_call_of_the_committed_notebooks_reads_before_it_runs_and_only_the_synthetic_suite_trains_outside()
    {
        var calls = NotebookSeries.Notebooks(TestPaths.Repo("notebooks")).SelectMany(NotebookTrainCalls.Of).ToList();
        foreach (var call in calls.Where(c => c.Source.StartsWith("nb.Train(", StringComparison.Ordinal)))
            Assert.True(call.Arms != null, NotebookTrainCalls.Describe(call));
        var outside = Assert.Single(calls, c => !c.Source.StartsWith("nb.Train(", StringComparison.Ordinal));
        Assert.Equal("11-synthetic", outside.Notebook);
        Assert.StartsWith("11-synthetic cell 7: SyntheticBench.RunAll(", NotebookTrainCalls.Describe(outside));
        Assert.EndsWith("cannot be read before it runs (it trains outside nb.Train)", NotebookTrainCalls.Describe(outside));
    }

    [Fact]
    public void Notebook_03s_calls_read_as_the_core_arms_the_quality_gap_arms_and_window_one()
    {
        var calls = NotebookTrainCalls.Of(TestPaths.Repo("notebooks", "03-training.ipynb"));
        Assert.Equal(3, calls.Count);
        Assert.Equal(Core, calls[0].Arms!.Select(a => a.Label));
        static string Of(TrainingArm a) => $"{a.Label}={a.Variant}[{string.Join(";", a.Overrides)}]";
        Assert.Equal(QualityGap.Arms().Select(Of), calls[1].Arms!.Select(Of));
        Assert.Equal(new[] { "separate-2xh-w1" }, calls[2].Arms!.Select(a => a.Variant));
        Assert.All(calls, c => Assert.Null(c.Seeds));
    }

    [Fact]
    public void A_variable_a_static_member_and_literal_seeds_are_read_and_anything_else_is_named_unreadable()
    {
        using var dir = new TestPaths.TempDir();
        var path = dir.File("99-mine.ipynb");
        NotebookDocument.Create(
            NotebookDocument.Cell.Code("var names = new[] { \"baseline-h\", \"separate-2xh\" };"),
            NotebookDocument.Cell.Code("#!time\nvar a = nb.Train(names, 2);\nvar b = nb.Train(SyntheticBench.Variants);"),
            NotebookDocument.Cell.Code("var c = nb.Train(MakeArms(3));\nvar d = nb.Train([\"wide-h\"], seeds: Seeds);")).Save(path);
        var calls = NotebookTrainCalls.Of(path);
        Assert.Equal(4, calls.Count);
        Assert.Equal(new[] { "baseline-h", "separate-2xh" }, calls[0].Arms!.Select(a => a.Variant));
        Assert.Equal((1, 2), (calls[0].Cell, calls[0].Seeds));
        Assert.Equal(SyntheticBench.Variants, calls[1].Arms!.Select(a => a.Variant));
        Assert.Equal("99-mine cell 2: nb.Train(MakeArms(3)) cannot be read before it runs ('MakeArms(3)' is not an array of variant names, a variable set to one, or a static workbench member without arguments)",
                     NotebookTrainCalls.Describe(calls[2]));
        Assert.Equal("its seeds (Seeds) are not a number", calls[3].Unreadable);
    }

    [Fact]
    public void A_run_two_notebooks_share_is_planned_once_and_progress_counts_it_when_it_finishes()
    {
        using var dir = new TestPaths.TempDir();
        var notebooks = new[] { "03-training", "04-quality" }.Select(n => TestPaths.Repo("notebooks", n + ".ipynb")).ToList();
        var parameters = new Dictionary<string, string> { ["Preset"] = "smoke", ["Seeds"] = "2", ["RunsRoot"] = dir.File("runs") };
        var plan = SeriesPlan.Of(notebooks, parameters, "cpu");
        int distinct = Core.Concat(QualityGap.Arms().Select(a => a.Label)).Append("separate-2xh-w1").Distinct().Count();
        Assert.Equal(("03-training", 2 * (Core.Length + QualityGap.Arms().Count + 1), 2 * distinct, 2 * distinct),
                     (plan.Notebooks[0].Notebook, plan.Notebooks[0].Models, plan.Notebooks[0].FirstHere, plan.Notebooks[0].ToTrain));
        Assert.Equal(("04-quality", 2 * Core.Length, 0, 0), (plan.Notebooks[1].Notebook, plan.Notebooks[1].Models, plan.Notebooks[1].FirstHere, plan.Notebooks[1].ToTrain));
        Assert.Equal((2 * distinct, 2 * distinct), (plan.Training.Total, plan.Training.ToTrain));
        Assert.Equal("  04-quality           8 models, all asked for earlier in the series", plan.Lines().ElementAt(1));
        Assert.False(Directory.Exists(dir.File("runs")) && Directory.EnumerateFileSystemEntries(dir.File("runs")).Any(), "a plan creates no run folder");
        Assert.Equal((0, 0.0), (plan.Progress().Done, plan.Progress().WorkDone));

        var first = plan.Runs[0].Request;
        RunService.TrainOrReuse(first, new RunOptions(dir.File("runs"), "cpu"));
        var (done, work, total) = plan.Progress();
        Assert.Equal((1, plan.Runs[0].Seconds), (done, work));
        Assert.Equal(plan.Training.EstimatedSeconds, total, 6);
        Assert.StartsWith($"series: 1/{2 * distinct} models trained · about ", plan.ProgressLine(10));

        var replanned = SeriesPlan.Of(notebooks, parameters, "cpu");
        Assert.Equal(2 * distinct - 1, replanned.Training.ToTrain);
        Assert.Equal(2 * distinct - 1, replanned.Notebooks[0].ToTrain);
    }
}
