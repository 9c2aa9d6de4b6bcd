using System.Globalization;
using Microsoft.Data.Analysis;
using StagNotebooks.Evaluation;
using StagNotebooks.Evaluation.Synthetic;
using StagNotebooks.Experiments;

namespace StagNotebooks.Reporting;

/// <summary>The synthetic suite's tables (<see cref="SyntheticBench"/>): long form for the record, a task-by-variant matrix for reading.</summary>
public static class SyntheticReport
{
    /// <summary>Long form: one row per (task, variant) with the per-seed accuracies, mean, sd and chance.</summary>
    public static DataFrame Table(IReadOnlyList<SyntheticResult> results)
    {
        var groups = results.GroupBy(r => (r.Task, r.Variant)).ToList();
        var stats = groups.Select(g => ArmStats.Of(g.Key.Variant, g.Select(r => r.Accuracy).ToList())).ToList();
        return new DataFrame(
            new StringDataFrameColumn("task", groups.Select(g => g.Key.Task)),
            new StringDataFrameColumn("variant", groups.Select(g => g.Key.Variant)),
            new StringDataFrameColumn("scoring", groups.Select(g => g.First().Scoring == SyntheticScoring.Recurrent ? "recurrent, token by token" : "teacher-forced")),
            new Int32DataFrameColumn("seeds", groups.Select(g => g.Count())),
            new DoubleDataFrameColumn("accuracy", stats.Select(s => s.Mean)),
            new DoubleDataFrameColumn("± sd", stats.Select(s => s.Sd)),
            new StringDataFrameColumn("per seed", groups.Select(g => string.Join(" ", g.Select(r => r.Accuracy.ToString("F3", CultureInfo.InvariantCulture))))),
            new DoubleDataFrameColumn("chance", groups.Select(g => g.First().Chance)),
            new DoubleDataFrameColumn("train s (mean)", groups.Select(g => g.Average(r => r.TrainSeconds))));
    }

    /// <summary>Wide form for reading: rows = variants, columns = tasks, cells "mean ± sd" accuracy.</summary>
    public static DataFrame Matrix(IReadOnlyList<SyntheticResult> results)
    {
        var tasks = results.Select(r => r.Task).Distinct().ToList();
        var variants = results.Select(r => r.Variant).Distinct().ToList();
        var cols = new List<DataFrameColumn> { new StringDataFrameColumn("variant", variants) };
        foreach (var t in tasks)
            cols.Add(new StringDataFrameColumn(t, variants.Select(v =>
            {
                var xs = results.Where(r => r.Task == t && r.Variant == v).Select(r => r.Accuracy).ToList();
                if (xs.Count == 0) return "";
                var s = ArmStats.Of(v, xs);
                return string.Create(CultureInfo.InvariantCulture, $"{s.Mean:F3}{(xs.Count > 1 ? $" ± {s.Sd:F3}" : "")}");
            })));
        return new DataFrame(cols);
    }

    /// <summary>
    /// One generated sample per task (seed 7) as the model sees it: its first <paramref name="tokens"/> tokens, each
    /// scored position written token[answer]; and the task's chance accuracy.
    /// </summary>
    public static DataFrame Samples(IReadOnlyList<string> tasks, int vocab, int length, int tokens = 40)
    {
        var created = tasks.Select(t => SyntheticTaskSpec.Parse(t).Create(vocab, length)).ToList();
        return new DataFrame(new StringDataFrameColumn("task", tasks),
            new StringDataFrameColumn($"sample (first {tokens} tokens; [x] = answer expected at that position)", created.Select(task =>
            {
                var s = task.Generate(new Random(7), 1);
                var answers = s.AnswerPositions.Zip(s.Answers).ToDictionary(p => p.First, p => p.Second);
                return string.Join(" ", s.Tokens.Take(tokens).Select((tok, i) => answers.TryGetValue(i, out var a) ? $"{tok}[{a}]" : tok.ToString(CultureInfo.InvariantCulture)));
            })),
            new DoubleDataFrameColumn("chance accuracy", created.Select(task => task.Chance)));
    }
}
