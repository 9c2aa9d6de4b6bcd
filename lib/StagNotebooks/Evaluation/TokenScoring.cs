using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Evaluation;

/// <summary>
/// One forward call of a sliding-window evaluation: the model reads tokens [InputStart, InputEnd) and the call
/// scores targets [FirstTarget, EndTarget). Target t is predicted from input position t − 1.
/// </summary>
public sealed record ScoringWindow(int InputStart, int InputEnd, int FirstTarget, int EndTarget);

/// <summary>Targets [FirstTarget, Tokens.Length) of one sequence to score, in windows moving by Stride (null: half the context).</summary>
public sealed record ScoringItem(long[] Tokens, int FirstTarget, int? Stride = null);

/// <summary>log p(target | left context) of each scored target, and whether it was the model's argmax.</summary>
public sealed record TokenScores(double[] LogProbs, bool[] IsGreedy)
{
    public double Sum => LogProbs.Sum();
    public bool AllGreedy => IsGreedy.All(g => g);
}

/// <summary>
/// Teacher-forced scoring of targets in sequences of any length with a model of bounded context, the sliding-
/// window way: each target is scored exactly once; the first window reads as much as fits, later windows move
/// by <c>stride</c> targets, so every target sees at least MaxContext − stride + 1 tokens of left context (or the
/// whole text before it). Stride 1 gives every target the most context that fits, at one forward per target.
/// </summary>
public static class TokenScoring
{
    /// <summary>Windows that score targets [firstTarget, length) of a sequence of <paramref name="length"/> tokens.</summary>
    public static IReadOnlyList<ScoringWindow> Plan(int length, int firstTarget, int maxContext, int stride)
    {
        if (firstTarget < 1) throw new ArgumentOutOfRangeException(nameof(firstTarget), "target 0 has no left context: prepend a BOS token to score it");
        if (maxContext < 1) throw new ArgumentOutOfRangeException(nameof(maxContext));
        if (stride < 1 || stride > maxContext) throw new ArgumentOutOfRangeException(nameof(stride), $"stride must be in [1, MaxContext = {maxContext}] (got {stride})");
        var windows = new List<ScoringWindow>();
        int t0 = firstTarget;
        // The first window is as long as the context allows (it ends at target maxContext at least).
        int t1 = Math.Min(length, Math.Max(t0 + stride, maxContext + 1));
        while (t0 < length)
        {
            int inputEnd = t1 - 1;                                     // the last target's predicting position + 1
            int inputStart = Math.Max(0, inputEnd - maxContext);
            windows.Add(new ScoringWindow(inputStart, inputEnd, t0, t1));
            t0 = t1;
            t1 = Math.Min(length, t0 + stride);
        }
        return windows;
    }

    /// <summary>Scores targets [firstTarget, tokens.Length) of <paramref name="tokens"/> with <paramref name="model"/>.</summary>
    /// <param name="stride">targets per later window; null = half the context</param>
    public static TokenScores Score(ILanguageModel model, long[] tokens, int firstTarget, int? stride = null) =>
        ScoreMany(model, new[] { new ScoringItem(tokens, firstTarget, stride) })[0];

    /// <summary>
    /// Scores many sequences with as few forward calls as fit: every item's windows are planned as in
    /// <see cref="Score"/>, then windows of similar length go to the model together
    /// (<see cref="ILanguageModel.ScoreTargets"/>: only the scored rows are unembedded and normalised), at most
    /// <paramref name="maxBatchElements"/> logits per call (batch × longest window × vocabulary; 2^20 measured fastest
    /// at smoke with `stag bench eval`: larger batches fall out of cache). Each target is scored exactly as alone, up
    /// to the arithmetic of a batched matmul.
    /// </summary>
    public static IReadOnlyList<TokenScores> ScoreMany(ILanguageModel model, IReadOnlyList<ScoringItem> items, long maxBatchElements = DefaultBatchElements)
    {
        var results = items.Select(it => new TokenScores(new double[Math.Max(0, it.Tokens.Length - it.FirstTarget)], new bool[Math.Max(0, it.Tokens.Length - it.FirstTarget)])).ToArray();
        var windows = items.SelectMany((it, i) => Plan(it.Tokens.Length, it.FirstTarget, model.MaxContext, it.Stride ?? DefaultStride(model.MaxContext))
            .Select(w => (Item: i, Window: w))).OrderByDescending(x => x.Window.InputEnd - x.Window.InputStart).ToList();
        for (int start = 0; start < windows.Count;)
        {
            long longest = windows[start].Window.InputEnd - windows[start].Window.InputStart;
            int count = (int)Math.Clamp(maxBatchElements / Math.Max(1, longest * model.VocabSize), 1, windows.Count - start);
            Gather(model, items, results, windows.GetRange(start, count));
            start += count;
        }
        return results;
    }

    static void Gather(ILanguageModel model, IReadOnlyList<ScoringItem> items, TokenScores[] results, List<(int Item, ScoringWindow Window)> batch)
    {
        // one call for the whole batch: its scored rows in order, each window's targets after its predicting positions
        var scores = model.ScoreTargets(batch.Select(x => items[x.Item].Tokens[x.Window.InputStart..x.Window.InputEnd]).ToList(),
            batch.Select(x => (x.Window.FirstTarget - 1 - x.Window.InputStart, x.Window.EndTarget - x.Window.FirstTarget)).ToList(),
            batch.SelectMany(x => items[x.Item].Tokens[x.Window.FirstTarget..x.Window.EndTarget]).ToArray());
        int row = 0;
        foreach (var (i, w) in batch)
        {
            int count = w.EndTarget - w.FirstTarget, offset = w.FirstTarget - items[i].FirstTarget;
            Array.Copy(scores.LogProbs, row, results[i].LogProbs, offset, count);
            Array.Copy(scores.IsGreedy, row, results[i].IsGreedy, offset, count);
            row += count;
        }
    }

    /// <summary>Logits per forward call of <see cref="ScoreMany"/> (see there for why).</summary>
    public const long DefaultBatchElements = 1 << 20;

    public static int DefaultStride(int maxContext) => Math.Max(1, maxContext / 2);
}
