using Microsoft.Data.Analysis;
using StagNotebooks.Experiments;
using StagNotebooks.Training;

namespace StagNotebooks.Reporting;

/// <summary>The evaluation tables of the notebooks (<see cref="ModelQuality"/>): quality and task accuracy of trained models, over seeds.</summary>
public static class EvaluationTables
{
    /// <summary>Measures (<see cref="ModelQuality.Perplexity"/>) and tabulates: one row per model.</summary>
    public static DataFrame Quality(IReadOnlyList<Trained> models, string split, Microsoft.ML.Tokenizers.Tokenizer tokenizer, int maxDocs, string device = "auto") =>
        Quality(ModelQuality.Perplexity(models, split, tokenizer, maxDocs, device), split);

    /// <summary>Parameters, "&lt;split&gt; loss over N docs" (± sd), perplexity, bits per byte (± sd).</summary>
    public static DataFrame Quality(IReadOnlyList<QualityRow> rows, string split)
    {
        int docs = rows.Count == 0 ? 0 : rows[0].Documents;
        return new DataFrame(new StringDataFrameColumn("model", rows.Select(r => r.Model)), new DoubleDataFrameColumn("parameters", rows.Select(r => r.Parameters)),
            new DoubleDataFrameColumn($"{split} loss over {docs} docs", rows.Select(r => r.Loss)), new DoubleDataFrameColumn("± sd", rows.Select(r => r.LossSd)),
            new DoubleDataFrameColumn($"{split} perplexity", rows.Select(r => r.Perplexity)), new DoubleDataFrameColumn($"{split} bits/byte", rows.Select(r => r.BitsPerByte)),
            new DoubleDataFrameColumn("bpb ± sd", rows.Select(r => r.BitsPerByteSd)));
    }

    /// <summary>Measures (<see cref="ModelQuality.Tasks"/>) and tabulates: one row per model, a column per task (and acc_norm where a task has it).</summary>
    public static DataFrame Tasks(IReadOnlyList<Trained> models, Microsoft.ML.Tokenizers.Tokenizer tokenizer, int maxExamples, string device = "auto") =>
        Tasks(ModelQuality.Tasks(models, tokenizer, maxExamples, device));

    /// <summary>Rows as <see cref="ModelQuality.Tasks"/> gives them (task by task, the same models in the same order under each).</summary>
    public static DataFrame Tasks(IReadOnlyList<TaskAccuracy> rows)
    {
        var byTask = rows.GroupBy(r => r.Task).Select(g => g.ToList()).ToList();
        var cols = new List<DataFrameColumn> { new StringDataFrameColumn("model", (byTask.FirstOrDefault() ?? new()).Select(r => r.Model)) };
        foreach (var of in byTask)
        {
            cols.Add(new DoubleDataFrameColumn($"{of[0].Task} acc", of.Select(r => r.Accuracy)));
            if (of.Any(r => double.IsFinite(r.AccuracyNorm))) cols.Add(new DoubleDataFrameColumn($"{of[0].Task} acc_norm", of.Select(r => r.AccuracyNorm)));
        }
        return new DataFrame(cols);
    }
}
