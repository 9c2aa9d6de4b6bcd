using Microsoft.Data.Analysis;
using StagNotebooks.Data;
using StagNotebooks.Decoding;
using StagNotebooks.Evaluation;
using StagNotebooks.IO;
using StagNotebooks.Reporting;
using StagNotebooks.Training;

namespace StagNotebooks.Workbench;

/// <summary>One compared model: a label and its runs (one per seed).</summary>
public sealed record Trained(string Label, IReadOnlyList<TrainResult> Seeds);

/// <summary>The figures and tables the notebooks show, computed from runs; each also written to figures/.</summary>
public static class Reports
{
    public static (double Mean, double Sd) MeanSd(IEnumerable<double> xs)
    {
        var a = xs.ToArray();
        double m = a.Average();
        return (m, a.Length > 1 ? Math.Sqrt(a.Sum(x => (x - m) * (x - m)) / (a.Length - 1)) : 0);
    }

    /// <summary>Trains every (label, variant) for every seed (reusing finished runs).</summary>
    public static IReadOnlyList<Trained> TrainAll(string preset, IEnumerable<string> variants, int seeds, PackedDataset data, string? runsRoot = null, Action<string>? log = null)
    {
        var list = new List<Trained>();
        foreach (var v in variants)
        {
            var runs = new List<TrainResult>();
            for (int s = 1; s <= seeds; s++)
            {
                var config = Experiments.Config(preset, v, data, seed: s);
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var live = log is null ? null : new LiveProgress(Console.Out);   // a live line in the notebook while a run trains
                var r = Experiments.Train(config, v, data, runsRoot, progress: p =>
                    live?.Report(LiveProgress.Training($"{v} seed {s}", p.Step, p.TotalSteps, p.Metrics.Loss, p.Metrics.TokensPerSecond, p.Metrics.ElapsedSeconds)));
                var summary = $"{v} seed {s}: {(r.Reused ? "reused" : $"trained in {clock.Elapsed.TotalSeconds:F0} s")}, best val loss {r.BestValLoss:F4} ({r.Run.Path})";
                if (!r.Reused && live != null) live.Done(summary); else log?.Invoke(summary);
                runs.Add(r);
            }
            list.Add(new Trained(v, runs));
        }
        return list;
    }

    /// <summary>Validation loss against training tokens, mean ± sd over seeds (the paper's Figure 4).</summary>
    public static Figure LossCurves(IReadOnlyList<Trained> models, string title = "Validation loss during training")
    {
        var series = models.Select(m =>
        {
            var points = m.Seeds.SelectMany(r => r.Metrics.Where(x => x.ValLoss != null)).GroupBy(x => x.Tokens).OrderBy(g => g.Key).ToList();
            var stats = points.Select(g => MeanSd(g.Select(x => x.ValLoss!.Value))).ToList();
            return new Series(m.Label, points.Select(g => (double)g.Key).ToList(), stats.Select(s => s.Mean).ToList(),
                              m.Seeds.Count > 1 ? stats.Select(s => s.Sd).ToList() : null, "lines+markers");
        });
        return Charts.Lines(title, "training tokens", "validation loss (nats/token)", series);
    }

    /// <summary>Training loss per step (smoothed over a window of steps), first seed of each model.</summary>
    public static Figure TrainingLoss(IReadOnlyList<Trained> models, int smooth = 10) =>
        Charts.Lines("Training loss", "step", "training loss (nats/token)", models.Select(m =>
        {
            var rows = m.Seeds[0].Metrics;
            var ys = rows.Select((_, i) => rows.Skip(Math.Max(0, i - smooth + 1)).Take(Math.Min(smooth, i + 1)).Average(r => r.Loss)).ToList();
            return new Series(m.Label, rows.Select(r => (double)r.Step).ToList(), ys);
        }));

    /// <summary>Perplexity and bits per byte of each model on a split (teacher-forced), mean ± sd over seeds.</summary>
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
            var l = MeanSd(reports.Select(x => x.Loss)); var b = MeanSd(reports.Select(x => x.BitsPerByte));
            labels.Add(m.Label); loss.Add(l.Mean); lossSd.Add(l.Sd); ppl.Add(Math.Exp(l.Mean)); bpb.Add(b.Mean); bpbSd.Add(b.Sd);
            parameters.Add(Model.ParameterReport.Total(Model.ParameterReport.Expected(m.Seeds[0].Run.Config.Model)));
        }
        return new DataFrame(new StringDataFrameColumn("model", labels), new DoubleDataFrameColumn("parameters", parameters),
            new DoubleDataFrameColumn($"{split} loss", loss), new DoubleDataFrameColumn("± sd", lossSd),
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

    /// <summary>Which key positions each query position may use: 1 = visible (for mask pictures).</summary>
    public static double[][] Mask(int length, int lag, int? window)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        var positions = TorchSharp.torch.arange(length, dtype: TorchSharp.torch.ScalarType.Int64);
        var visible = Model.StaggeredCrossAttention.VisibleKeys(positions, positions, lag, window).to(TorchSharp.torch.ScalarType.Float64);   // the model's own rule
        var flat = visible.data<double>().ToArray();
        return Enumerable.Range(0, length).Select(i => flat.AsSpan(i * length, length).ToArray()).ToArray();
    }

    /// <summary>
    /// The figure folder of a notebook at a preset and seed count: figures/&lt;notebook&gt;/&lt;preset&gt;[-Nseeds]/ under
    /// <paramref name="root"/> (default: the repository's figures/). Pass it to <see cref="Save(Figure, FigureFolder, string)"/>
    /// so runs at other presets do not overwrite the committed default's figures, and every figure names its preset,
    /// seeds and commit.
    /// </summary>
    public static FigureFolder Figures(string notebook, string preset, int seeds, string? root = null) =>
        FigureFolder.For(string.IsNullOrEmpty(root) ? RepoPaths.Figures : root, notebook, preset, seeds);

    /// <summary>Saves a chart (stamped with its provenance) into the notebook's preset folder and returns the stamped chart.</summary>
    public static Figure Save(Figure chart, FigureFolder figures, string name)
    {
        FigureWriter.SaveChart(chart, figures.Path, name, figures.Provenance);   // sets the chart's provenance subtitle
        return chart;
    }

    /// <summary>Saves a table (Markdown footer and sidecar naming its provenance) into the notebook's preset folder.</summary>
    public static DataFrame Save(DataFrame table, FigureFolder figures, string name) { FigureWriter.SaveTable(table, figures.Path, name, figures.Provenance); return table; }

    /// <summary>Saves a chart under a plain folder (no preset subfolder, no provenance): prefer the <see cref="FigureFolder"/> overload.</summary>
    public static Figure Save(Figure chart, string figures, string name) { FigureWriter.SaveChart(chart, figures, name); return chart; }

    public static DataFrame Save(DataFrame table, string figures, string name) { FigureWriter.SaveTable(table, figures, name); return table; }
}
