using StagNotebooks.Evaluation;
using StagNotebooks.Reporting;

namespace StagNotebooks.Tests.Evaluation;

public class EvalResultsTests
{
    static EvalResults Sample()
    {
        var news = PerplexityFigures.From("news", 2, 30, 120, 45.0);
        var fiction = PerplexityFigures.From("fiction", 1, 10, 50, 20.0);
        var report = new PerplexityReport(PerplexityFigures.From(PerplexityEvaluator.OverallName, 3, 40, 170, 65.0), new[] { fiction, news }, 64);
        var task = new TaskResult("heldout_cloze", TaskFormat.Lambada, 8, 0, 0.25, null, 41.5, Array.Empty<ExampleScore>());
        var free = new FreeRunningResult("recurrent", 4, 100, null, 230.0, 2.3, Math.Exp(2.3), null, 2.1, 0, 32, double.NaN, double.NaN);
        return new EvalResults("runs/x", "recurrent", "cl100k_base", report, new[] { task }, free);
    }

    [Fact]
    public void Results_round_trip_through_json_without_per_example_details()
    {
        var r = Sample();
        var json = r.ToJson();
        Assert.DoesNotContain("Details", json);
        var back = EvalResults.FromJson(json);
        Assert.Equal(r.Perplexity!.Overall, back.Perplexity!.Overall);
        Assert.Equal(r.Perplexity.Subsets, back.Perplexity.Subsets);
        Assert.Equal(r.FreeRunning, back.FreeRunning);   // NaN survives as "NaN"
        Assert.Equal(0.25, back.Tasks[0].Accuracy);
        Assert.Null(back.Tasks[0].AccuracyNorm);
    }

    [Fact]
    public void Data_frames_have_one_row_per_subset_task_and_engine()
    {
        var r = Sample();
        var ppl = r.Perplexity!.ToDataFrame();
        Assert.Equal(3, ppl.Rows.Count);
        Assert.Equal("overall", ppl["subset"][2]);
        Assert.Equal(65.0 / 40, (double)ppl["loss"][2]!, 12);
        var tasks = r.Tasks.ToDataFrame();
        Assert.Equal(1, tasks.Rows.Count);
        Assert.Null(tasks["acc_norm"][0]);
        Assert.Equal(2.1, (double)new[] { r.FreeRunning! }.ToDataFrame()["teacher_forced_loss"][0]!, 12);
    }
}
