using StagNotebooks.Decoding;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Evaluation;

public sealed record FreeRunningOptions
{
    /// <summary>Tokens prefilled before the first scored step, and the prompt length of the greedy test.</summary>
    public int PromptTokens { get; init; } = 16;
    /// <summary>K: tokens generated greedily after each prompt and compared with the ground truth.</summary>
    public int GenerateTokens { get; init; } = 32;
    /// <summary>Longer sequences are cut into independent pieces of this length (set it to the model's MaxContext).</summary>
    public int? MaxSequenceLength { get; init; }
    /// <summary>Use at most this many sequences (pieces) — free-running scoring is one engine step per token.</summary>
    public int? MaxSequences { get; init; }
    /// <summary>Where the engine's model lives (null: CPU).</summary>
    public Device? Device { get; init; }
}

/// <param name="Tokens">targets scored: positions PromptTokens..L−1 of every sequence</param>
/// <param name="TeacherForcedLoss">the same targets scored teacher-forced, when a reference model was given</param>
/// <param name="GreedyTokenMatch">fraction of greedily generated tokens equal to the ground truth at their position</param>
/// <param name="GreedyMeanMatchedPrefix">mean length of the exactly matching prefix of each generation</param>
public sealed record FreeRunningResult(string Engine, int Sequences, long Tokens, long? Bytes, double Nll, double Loss, double Perplexity,
    double? BitsPerByte, double? TeacherForcedLoss, int GreedyPrompts, int GreedyTokensPerPrompt, double GreedyTokenMatch, double GreedyMeanMatchedPrefix);

/// <summary>
/// Scores held-out sequences with the states a decoding engine builds step by step, instead of teacher forcing:
/// prefill the first k tokens, then feed the ground-truth tokens one step at a time and accumulate the NLL of
/// each next token from the step's logits. For exact engines this equals the teacher-forced loss; for recurrent
/// decoding it is the honest measure (the reviewers' main complaint about the paper). Also: greedy continuations vs. ground truth.
/// </summary>
public static class FreeRunningEvaluator
{
    /// <param name="countBytes">UTF-8 bytes of a run of tokens (e.g. via the tokenizer's Decode); null: no bits per byte</param>
    /// <param name="teacherForced">the model scored teacher-forced on the same targets, for comparison</param>
    public static FreeRunningResult Evaluate(IDecodingEngine engine, IEnumerable<long[]> sequences, FreeRunningOptions? options = null,
        Func<IReadOnlyList<long>, long>? countBytes = null, ILanguageModel? teacherForced = null)
    {
        var o = options ?? new FreeRunningOptions();
        int k = o.PromptTokens;
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(options), "PromptTokens must be at least 1");
        var pieces = sequences.SelectMany(s => Cut(s, o.MaxSequenceLength)).Where(s => s.Length > k).Take(o.MaxSequences ?? int.MaxValue).ToList();

        double nll = 0, tfNll = 0;
        long tokens = 0, bytes = 0;
        foreach (var seq in pieces)
        {
            nll -= FreeRunningLogProbs(engine, seq, k, o.Device).Sum();
            tokens += seq.Length - k;
            if (countBytes != null) bytes += countBytes(seq[k..]);
            if (teacherForced != null) tfNll -= TokenScoring.Score(teacherForced, seq, k).Sum;
        }

        int prompts = 0; long generated = 0, matched = 0, prefixSum = 0;
        foreach (var seq in pieces.Where(s => s.Length >= k + o.GenerateTokens))
        {
            var (same, prefix) = GreedyMatch(engine, seq, k, o.GenerateTokens, o.Device);
            prompts++; generated += o.GenerateTokens; matched += same; prefixSum += prefix;
        }

        double loss = tokens > 0 ? nll / tokens : double.NaN;
        return new FreeRunningResult(engine.Name, pieces.Count, tokens, countBytes != null ? bytes : null, nll, loss, Math.Exp(loss),
            countBytes != null && bytes > 0 ? nll / Math.Log(2) / bytes : null,
            teacherForced != null && tokens > 0 ? tfNll / tokens : null,
            prompts, o.GenerateTokens, generated > 0 ? (double)matched / generated : double.NaN, prompts > 0 ? (double)prefixSum / prompts : double.NaN);
    }

    /// <summary>
    /// log p(seq[t] | the engine's state after seq[0..t)) for t = k..L−1: the prefill's last row predicts seq[k],
    /// then each step on the ground-truth token seq[t] predicts seq[t+1].
    /// </summary>
    public static double[] FreeRunningLogProbs(IDecodingEngine engine, long[] seq, int k, Device? device = null)
    {
        var result = new double[seq.Length - k];
        using var session = engine.Start(1, seq.Length);
        using var ng = torch.no_grad();
        using (var scope = torch.NewDisposeScope())
        {
            var logits = session.Prefill(torch.tensor(seq[..k], new long[] { 1, k }, device: device));   // (1, k, V)
            result[0] = LogProbOf(logits[0, k - 1], seq[k]);
        }
        for (int t = k; t < seq.Length - 1; t++)
        {
            using var scope = torch.NewDisposeScope();
            var logits = session.Step(torch.tensor(new[] { seq[t] }, new long[] { 1, 1 }, device: device));   // (1, V)
            result[t + 1 - k] = LogProbOf(logits[0], seq[t + 1]);
        }
        return result;
    }

    /// <summary>Greedy generation of <paramref name="count"/> tokens after seq[0..k): (tokens equal to the truth, length of the matching prefix).</summary>
    public static (int Matched, int Prefix) GreedyMatch(IDecodingEngine engine, long[] seq, int k, int count, Device? device = null)
    {
        using var prompt = torch.tensor(seq[..k], new long[] { 1, k }, device: device);
        var generated = TextGenerator.Generate(engine, prompt, count).Tokens[0];
        int matched = 0, prefix = 0;
        bool prefixOpen = true;
        for (int i = 0; i < count; i++)
        {
            bool same = i < generated.Length && generated[i] == seq[k + i];
            if (same) matched++;
            if (same && prefixOpen) prefix++; else prefixOpen = false;
        }
        return (matched, prefix);
    }

    static double LogProbOf(Tensor logits, long target) =>   // logits (V)
        logits.to_type(ScalarType.Float64).log_softmax(-1)[target].item<double>();

    static IEnumerable<long[]> Cut(long[] seq, int? max)
    {
        if (max is not int m || seq.Length <= m) { yield return seq; yield break; }
        for (int i = 0; i < seq.Length; i += m) yield return seq[i..Math.Min(seq.Length, i + m)];
    }
}
