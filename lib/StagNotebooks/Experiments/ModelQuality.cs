using StagNotebooks.Data;
using StagNotebooks.Evaluation;
using StagNotebooks.IO;
using StagNotebooks.Model;
using StagNotebooks.Training;

namespace StagNotebooks.Experiments;

/// <summary>One model's held-out quality over its seeds: loss, perplexity and bits per byte (mean, sd; sd NaN for one seed).</summary>
public sealed record QualityRow(string Model, double Parameters, int Documents, double Loss, double LossSd, double Perplexity, double BitsPerByte, double BitsPerByteSd);

/// <summary>One model's accuracy on one task, averaged over its seeds (acc_norm NaN where the task has none).</summary>
public sealed record TaskAccuracy(string Model, string Task, double Accuracy, double AccuracyNorm);

/// <summary>The notebooks' evaluation of trained models, over seeds: perplexity and bits per byte on a split, accuracy on the shipped tasks.</summary>
public static class ModelQuality
{
    /// <summary>
    /// Perplexity and bits per byte of each model on the first <paramref name="maxDocs"/> documents of a split
    /// (teacher-forced, whole documents), mean ± sd over seeds. This loss is over whole documents: a different
    /// quantity from the val loss of verdicts and summaries (<see cref="Trained.ValLoss"/>, the trainer's batches).
    /// </summary>
    public static IReadOnlyList<QualityRow> Perplexity(IReadOnlyList<Trained> models, string split, Microsoft.ML.Tokenizers.Tokenizer tokenizer, int maxDocs, string device = "auto")
    {
        var docs = new PileReader(new[] { RepoPaths.BrownSplit(split) }).Read().Take(maxDocs)
            .Select(r => EvalDocument.FromText(tokenizer, r.Text, r.Subset)).ToList();
        return models.Select(m =>
        {
            var reports = m.Seeds.Select(r =>
            {
                using var model = ExperimentRuns.LoadModel(r.Run, device: device);
                return new PerplexityEvaluator(new StagFormerLanguageModel(model)).Evaluate(docs).Overall;
            }).ToList();
            var l = SampleStatistics.MeanSd(reports.Select(x => x.Loss));
            var b = SampleStatistics.MeanSd(reports.Select(x => x.BitsPerByte));
            return new QualityRow(m.Label, ParameterReport.Total(ParameterReport.Expected(m.Seeds[0].Run.Config.Model)), docs.Count,
                l.Mean, reports.Count > 1 ? l.Sd : double.NaN, Math.Exp(l.Mean), b.Mean, reports.Count > 1 ? b.Sd : double.NaN);
        }).ToList();
    }

    /// <summary>
    /// Accuracy on the tasks shipped in data/tasks (built from the bundled test split by `stag eval build-tasks`: a
    /// LAMBADA-style final-word cloze and a choose-the-real-continuation task), mean over seeds; rows task by task, models in order.
    /// </summary>
    public static IReadOnlyList<TaskAccuracy> Tasks(IReadOnlyList<Trained> models, Microsoft.ML.Tokenizers.Tokenizer tokenizer, int maxExamples, string device = "auto")
    {
        var tasks = Directory.GetFiles(RepoPaths.Data("tasks"), "*.jsonl").Order(StringComparer.Ordinal).Select(f => TaskReaders.Read(f)).ToList();
        var rows = new List<TaskAccuracy>();
        foreach (var task in tasks)
            foreach (var m in models)
            {
                var results = m.Seeds.Select(r =>
                {
                    using var model = ExperimentRuns.LoadModel(r.Run, device: device);
                    return new MultipleChoiceScorer(new StagFormerLanguageModel(model), tokenizer, new ScorerOptions { MaxExamples = maxExamples }).Score(task);
                }).ToList();
                rows.Add(new TaskAccuracy(m.Label, task.Name, results.Average(x => x.Accuracy), results.Average(x => x.AccuracyNorm ?? double.NaN)));
            }
        return rows;
    }
}
