using Microsoft.Data.Analysis;
using StagNotebooks.Data;
using StagNotebooks.Evaluation;
using StagNotebooks.IO;
using StagNotebooks.Model;
using StagNotebooks.Training;

namespace StagNotebooks.Workbench;

/// <summary>The evaluation tables of the notebooks: quality (perplexity, bits per byte) and task accuracy of trained models, over seeds.</summary>
public static class EvaluationTables
{
    /// <summary>
    /// Perplexity and bits per byte of each model on the first <paramref name="maxDocs"/> documents of a split
    /// (teacher-forced, whole documents), mean ± sd over seeds. Its loss is named "… loss over N docs": a different
    /// quantity from the val loss of verdicts and summaries (<see cref="Trained.ValLoss"/>, the trainer's batches).
    /// </summary>
    public static DataFrame Quality(IReadOnlyList<Trained> models, string split, Microsoft.ML.Tokenizers.Tokenizer tokenizer, int maxDocs, string device = "auto")
    {
        var docs = new PileReader(new[] { RepoPaths.BrownSplit(split) }).Read().Take(maxDocs)
            .Select(r => EvalDocument.FromText(tokenizer, r.Text, r.Subset)).ToList();
        var labels = new List<string>(); var loss = new List<double>(); var lossSd = new List<double>();
        var ppl = new List<double>(); var bpb = new List<double>(); var bpbSd = new List<double>(); var parameters = new List<double>();
        foreach (var m in models)
        {
            var reports = m.Seeds.Select(r =>
            {
                using var model = Experiments.LoadModel(r.Run, device: device);
                return new PerplexityEvaluator(new StagFormerLanguageModel(model)).Evaluate(docs).Overall;
            }).ToList();
            var l = SampleStatistics.MeanSd(reports.Select(x => x.Loss)); var b = SampleStatistics.MeanSd(reports.Select(x => x.BitsPerByte));
            labels.Add(m.Label); loss.Add(l.Mean); lossSd.Add(reports.Count > 1 ? l.Sd : double.NaN); ppl.Add(Math.Exp(l.Mean)); bpb.Add(b.Mean); bpbSd.Add(reports.Count > 1 ? b.Sd : double.NaN);
            parameters.Add(ParameterReport.Total(ParameterReport.Expected(m.Seeds[0].Run.Config.Model)));
        }
        return new DataFrame(new StringDataFrameColumn("model", labels), new DoubleDataFrameColumn("parameters", parameters),
            new DoubleDataFrameColumn($"{split} loss over {docs.Count} docs", loss), new DoubleDataFrameColumn("± sd", lossSd),
            new DoubleDataFrameColumn($"{split} perplexity", ppl), new DoubleDataFrameColumn($"{split} bits/byte", bpb), new DoubleDataFrameColumn("bpb ± sd", bpbSd));
    }

    /// <summary>
    /// Accuracy on the tasks shipped in data/tasks (built from the bundled test split by `stag eval build-tasks`: a
    /// LAMBADA-style final-word cloze and a choose-the-real-continuation task), mean over seeds.
    /// </summary>
    public static DataFrame Tasks(IReadOnlyList<Trained> models, Microsoft.ML.Tokenizers.Tokenizer tokenizer, int maxExamples, string device = "auto")
    {
        var tasks = Directory.GetFiles(RepoPaths.Data("tasks"), "*.jsonl").Order(StringComparer.Ordinal).Select(f => TaskReaders.Read(f)).ToList();
        var cols = new List<DataFrameColumn> { new StringDataFrameColumn("model", models.Select(m => m.Label)) };
        foreach (var task in tasks)
        {
            var acc = new List<double>(); var accNorm = new List<double>();
            foreach (var m in models)
            {
                var results = m.Seeds.Select(r =>
                {
                    using var model = Experiments.LoadModel(r.Run, device: device);
                    return new MultipleChoiceScorer(new StagFormerLanguageModel(model), tokenizer, new ScorerOptions { MaxExamples = maxExamples }).Score(task);
                }).ToList();
                acc.Add(results.Average(x => x.Accuracy));
                accNorm.Add(results.Average(x => x.AccuracyNorm ?? double.NaN));
            }
            cols.Add(new DoubleDataFrameColumn($"{task.Name} acc", acc));
            if (accNorm.Any(double.IsFinite)) cols.Add(new DoubleDataFrameColumn($"{task.Name} acc_norm", accNorm));
        }
        return new DataFrame(cols);
    }
}
