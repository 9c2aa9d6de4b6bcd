using Microsoft.Data.Analysis;

using StagNotebooks.Evaluation;

namespace StagNotebooks.Reporting;

/// <summary>Evaluation results as DataFrames for notebooks: one row per subset, task or engine.</summary>
public static class ResultFrames
{
    /// <summary>One row per subset, then the overall row.</summary>
    public static DataFrame ToDataFrame(this PerplexityReport report)
    {
        var rows = report.Subsets.Append(report.Overall).ToList();
        return new DataFrame(
            new StringDataFrameColumn("subset", rows.Select(r => r.Subset)),
            new Int32DataFrameColumn("documents", rows.Select(r => r.Documents)),
            new Int64DataFrameColumn("tokens", rows.Select(r => r.Tokens)),
            new Int64DataFrameColumn("bytes", rows.Select(r => r.Bytes)),
            new DoubleDataFrameColumn("nll", rows.Select(r => r.Nll)),
            new DoubleDataFrameColumn("loss", rows.Select(r => r.Loss)),
            new DoubleDataFrameColumn("perplexity", rows.Select(r => r.Perplexity)),
            new DoubleDataFrameColumn("bits_per_byte", rows.Select(r => r.BitsPerByte)));
    }

    public static DataFrame ToDataFrame(this IEnumerable<TaskResult> results)
    {
        var rows = results.ToList();
        return new DataFrame(
            new StringDataFrameColumn("task", rows.Select(r => r.Task)),
            new StringDataFrameColumn("format", rows.Select(r => r.Format.ToString())),
            new Int32DataFrameColumn("examples", rows.Select(r => r.Examples)),
            new Int32DataFrameColumn("shots", rows.Select(r => r.Shots)),
            new DoubleDataFrameColumn("acc", rows.Select(r => r.Accuracy)),
            new DoubleDataFrameColumn("acc_norm", rows.Select(r => r.AccuracyNorm)),
            new DoubleDataFrameColumn("perplexity", rows.Select(r => r.Perplexity)));
    }

    public static DataFrame ToDataFrame(this IEnumerable<FreeRunningResult> results)
    {
        var rows = results.ToList();
        return new DataFrame(
            new StringDataFrameColumn("engine", rows.Select(r => r.Engine)),
            new Int32DataFrameColumn("sequences", rows.Select(r => r.Sequences)),
            new Int64DataFrameColumn("tokens", rows.Select(r => r.Tokens)),
            new DoubleDataFrameColumn("loss", rows.Select(r => r.Loss)),
            new DoubleDataFrameColumn("perplexity", rows.Select(r => r.Perplexity)),
            new DoubleDataFrameColumn("bits_per_byte", rows.Select(r => r.BitsPerByte)),
            new DoubleDataFrameColumn("teacher_forced_loss", rows.Select(r => r.TeacherForcedLoss)),
            new DoubleDataFrameColumn("greedy_token_match", rows.Select(r => r.GreedyTokenMatch)),
            new DoubleDataFrameColumn("greedy_mean_matched_prefix", rows.Select(r => r.GreedyMeanMatchedPrefix)));
    }
}
