using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Evaluation;

/// <summary>
/// One forward call of a sliding-window evaluation: the model reads tokens [InputStart, InputEnd) and the call
/// scores targets [FirstTarget, EndTarget). Target t is predicted from input position t − 1.
/// </summary>
public sealed record ScoringWindow(int InputStart, int InputEnd, int FirstTarget, int EndTarget);

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
    public static TokenScores Score(ILanguageModel model, long[] tokens, int firstTarget, int? stride = null)
    {
        int n = tokens.Length - firstTarget;
        var logProbs = new double[Math.Max(0, n)];
        var greedy = new bool[logProbs.Length];
        foreach (var w in Plan(tokens.Length, firstTarget, model.MaxContext, stride ?? DefaultStride(model.MaxContext)))
        {
            using var scope = torch.NewDisposeScope();
            var lp = model.LogProbs(tokens[w.InputStart..w.InputEnd]);                    // (T, V)
            int count = w.EndTarget - w.FirstTarget;
            var rows = lp.narrow(0, w.FirstTarget - 1 - w.InputStart, count);                // (count, V)
            var targets = torch.tensor(tokens[w.FirstTarget..w.EndTarget], device: lp.device).unsqueeze(1);   // (count, 1)
            var picked = rows.gather(1, targets).squeeze(1).to_type(ScalarType.Float64).cpu().data<double>().ToArray();
            var argmax = rows.argmax(1).cpu().data<long>().ToArray();
            for (int i = 0; i < count; i++)
            {
                logProbs[w.FirstTarget - firstTarget + i] = picked[i];
                greedy[w.FirstTarget - firstTarget + i] = argmax[i] == tokens[w.FirstTarget + i];
            }
        }
        return new TokenScores(logProbs, greedy);
    }

    public static int DefaultStride(int maxContext) => Math.Max(1, maxContext / 2);
}
