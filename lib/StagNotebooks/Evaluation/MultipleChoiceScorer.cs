using System.Text.Json.Serialization;
using Microsoft.ML.Tokenizers;

namespace StagNotebooks.Evaluation;

public sealed record ScorerOptions
{
    /// <summary>k: solved examples (other items of the task, gold answer filled in) in front of each prompt.</summary>
    public int Shots { get; init; }
    /// <summary>Seed of the few-shot draw (the harness's default is 1234).</summary>
    public int Seed { get; init; } = 1234;
    /// <summary>Score only the first N items (few-shot examples are still drawn from all of them).</summary>
    public int? MaxExamples { get; init; }
    /// <summary>Prepended to every request when set; needed when a context is empty.</summary>
    public int? BosToken { get; init; }
    /// <summary>Sliding-window stride for prompts longer than the context (null: the continuation's length, so one window scores it all).</summary>
    public int? Stride { get; init; }
    public string ShotSeparator { get; init; } = "\n\n";
}

/// <param name="LogLikelihoods">per choice: Σ log p(continuation tokens | context)</param>
/// <param name="IsGreedy">per choice: every continuation token was the model's argmax</param>
/// <param name="PredictedNorm">argmax of log-likelihood per character; null where the task has no acc_norm</param>
public sealed record ExampleScore(int Index, int Gold, int Predicted, int? PredictedNorm, double[] LogLikelihoods, bool[] IsGreedy);

/// <param name="Accuracy">multiple choice: argmax log-likelihood is gold; cloze: the continuation is the greedy output</param>
/// <param name="AccuracyNorm">acc_norm: argmax of log-likelihood / characters of the choice (not for WinoGrande or cloze)</param>
/// <param name="Perplexity">cloze only: exp(−mean continuation log-likelihood), as the harness reports for LAMBADA</param>
/// <param name="Details">per example; not serialised, so null in results read back from JSON</param>
public sealed record TaskResult(string Task, TaskFormat Format, int Examples, int Shots, double Accuracy, double? AccuracyNorm, double? Perplexity,
    [property: JsonIgnore] IReadOnlyList<ExampleScore> Details);

/// <summary>
/// lm-evaluation-harness style log-likelihood scoring: each choice's continuation is scored given its
/// (few-shot) context; the prediction is the choice of highest log-likelihood.
/// </summary>
public sealed class MultipleChoiceScorer(ILanguageModel model, Tokenizer tokenizer, ScorerOptions? options = null)
{
    public ScorerOptions Options { get; } = options ?? new ScorerOptions();

    public TaskResult Score(EvalTask task)
    {
        var rng = new Random(Options.Seed);
        int n = Math.Min(task.Examples.Count, Options.MaxExamples ?? int.MaxValue);
        // the prompts in example order (the few-shot draws consume rng in turn), then every choice of every example
        // scored together: as few forwards as fit (TokenScoring.ScoreMany), not one per example
        var prompts = Enumerable.Range(0, n).Select(i =>
        {
            var prefix = FewShotPrefix(task, i, rng);
            return task.Examples[i].Choices.Select(c => (prefix + c.Context, c.Continuation)).ToList();
        }).ToList();
        var scores = LogLikelihoods(prompts.SelectMany(p => p).ToList());
        bool hasNorm = task.Kind == TaskKind.MultipleChoice && task.Format != TaskFormat.WinoGrande;
        var details = new List<ExampleScore>(n);
        for (int i = 0, first = 0; i < n; first += prompts[i].Count, i++)
            details.Add(Judge(i, task.Examples[i], Enumerable.Range(first, prompts[i].Count).Select(j => scores[j]).ToList(), hasNorm));
        double acc = task.Kind == TaskKind.Cloze
            ? details.Average(d => d.IsGreedy[0] ? 1.0 : 0.0)
            : details.Average(d => d.Predicted == d.Gold ? 1.0 : 0.0);
        double? accNorm = hasNorm ? details.Average(d => d.PredictedNorm == d.Gold ? 1.0 : 0.0) : null;
        double? ppl = task.Kind == TaskKind.Cloze ? Math.Exp(-details.Average(d => d.LogLikelihoods[0])) : null;
        return new TaskResult(task.Name, task.Format, n, Options.Shots, acc, accNorm, ppl, details);
    }

    /// <summary>One example's prediction from its choices' scores.</summary>
    static ExampleScore Judge(int index, TaskExample ex, IReadOnlyList<TokenScores> scores, bool hasNorm)
    {
        var lls = scores.Select(s => s.Sum).ToArray();
        int? norm = hasNorm ? ArgMax(ex.Choices.Select((c, j) => lls[j] / ChoiceLength(c)).ToArray()) : null;
        return new ExampleScore(index, ex.Gold, ArgMax(lls), norm, lls, scores.Select(s => s.AllGreedy).ToArray());
    }

    /// <summary>k solved examples other than <paramref name="index"/>, each followed by the separator.</summary>
    public string FewShotPrefix(EvalTask task, int index, Random rng)
    {
        if (Options.Shots <= 0) return "";
        var others = Enumerable.Range(0, task.Examples.Count).Where(j => j != index).ToArray();
        rng.Shuffle(others);
        return string.Concat(others.Take(Options.Shots).Select(j =>
        {
            var gold = task.Examples[j].Choices[task.Examples[j].Gold];
            return gold.Context + gold.Continuation + Options.ShotSeparator;
        }));
    }

    /// <summary>
    /// Scores the continuation tokens. As in the harness, trailing whitespace of the context moves to the
    /// continuation, and the continuation's tokens are those of encode(context + continuation) after encode(context),
    /// so a tokenizer that merges across the boundary is scored on the tokens it would really produce.
    /// </summary>
    public TokenScores LogLikelihood(string context, string continuation) => LogLikelihoods(new[] { (context, continuation) })[0];

    /// <summary><see cref="LogLikelihood"/> of several (context, continuation) pairs, scored together (TokenScoring.ScoreMany).</summary>
    public IReadOnlyList<TokenScores> LogLikelihoods(IReadOnlyList<(string Context, string Continuation)> pairs) =>
        TokenScoring.ScoreMany(model, pairs.Select(p => Item(p.Context, p.Continuation)).ToList());

    ScoringItem Item(string context, string continuation)
    {
        int spaces = context.Length - context.TrimEnd().Length;
        if (spaces > 0) { continuation = context[^spaces..] + continuation; context = context[..^spaces]; }
        var whole = tokenizer.EncodeToIds(context + continuation);
        var ctx = context.Length > 0 ? tokenizer.EncodeToIds(context) : Array.Empty<int>();
        var prefix = Options.BosToken is int bos ? new long[] { bos } : Array.Empty<long>();
        if (prefix.Length + ctx.Count == 0) throw new InvalidOperationException("an empty context needs ScorerOptions.BosToken to score the first continuation token");
        if (whole.Count <= ctx.Count) throw new InvalidOperationException($"continuation '{continuation}' encodes to no tokens after its context");
        var tokens = prefix.Concat(whole.Select(t => (long)t)).ToArray();
        int firstTarget = prefix.Length + ctx.Count;
        // Default as in the harness: one window holding the whole continuation, the context cut on the left.
        int stride = Options.Stride ?? Math.Clamp(tokens.Length - firstTarget, 1, model.MaxContext);
        return new ScoringItem(tokens, firstTarget, stride);
    }

    // The harness divides by len(choice) in Python characters (code points), without the " " delimiter.
    static int ChoiceLength(TaskChoice c)
    {
        var text = c.Continuation.StartsWith(' ') ? c.Continuation[1..] : c.Continuation;
        return Math.Max(1, text.EnumerateRunes().Count());
    }

    /// <summary>Index of the first maximum (numpy's argmax).</summary>
    static int ArgMax(double[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
