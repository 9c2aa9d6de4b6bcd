using StagNotebooks.Evaluation;
using StagNotebooks.Model;
using StagNotebooks.Tests.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Evaluation;

/// <summary>Scoring many windows per forward gives every target the log-probability it gets when scored alone.</summary>
public class BatchedScoringTests
{
    static long[] Sequence(int length, long seed, int vocab)
    {
        var rng = new Random((int)seed);
        return Enumerable.Range(0, length).Select(_ => (long)rng.Next(vocab)).ToArray();
    }

    [Theory]
    [InlineData("p2-Separate-wfull")]
    [InlineData("p2-Shared-wfull")]
    [InlineData("p3-Shared-gate-layer-w3")]
    [InlineData("p1")]
    public void Batched_windows_score_every_target_as_alone(string variant)
    {
        var c = Variants.Get(variant);
        using var model = Variants.Model(c);
        var lm = new StagFormerLanguageModel(model);
        // lengths below, at and above the context (32): one window, exactly one, several sliding ones
        var items = new[] { 5, 32, 33, 70, 2 }.Select((n, i) => new ScoringItem(Sequence(n, i + 1, c.VocabSize), 1, i == 3 ? 7 : null)).ToList();
        var batched = TokenScoring.ScoreMany(lm, items);
        var alone = items.Select(it => TokenScoring.ScoreMany(new OneWindowPerCall(lm), new[] { it })[0]).ToList();
        for (int i = 0; i < items.Count; i++)
        {
            Assert.Equal(alone[i].LogProbs.Length, batched[i].LogProbs.Length);
            for (int t = 0; t < alone[i].LogProbs.Length; t++)
                Assert.True(Math.Abs(alone[i].LogProbs[t] - batched[i].LogProbs[t]) < 1e-5, $"{variant} item {i} target {t}: {alone[i].LogProbs[t]} vs {batched[i].LogProbs[t]}");
            Assert.Equal(alone[i].IsGreedy, batched[i].IsGreedy);
        }
        // a tiny per-call budget forces one window per call: the same scores again
        var single = TokenScoring.ScoreMany(lm, items, maxBatchElements: 1);
        Assert.Equal(batched.Select(b => b.LogProbs.Length), single.Select(b => b.LogProbs.Length));
    }

    [Fact]
    public void Perplexity_over_documents_is_the_same_batched_or_one_by_one()
    {
        var c = Variants.Get("p2-Separate-wfull");
        using var model = Variants.Model(c);
        var lm = new StagFormerLanguageModel(model);
        var docs = new[] { 40, 3, 17, 1, 65 }.Select((n, i) => new EvalDocument(i % 2 == 0 ? "a" : "b", Sequence(n, 10 + i, c.VocabSize), n * 4)).ToList();
        var batched = new PerplexityEvaluator(lm).Evaluate(docs);
        var alone = new PerplexityEvaluator(new OneWindowPerCall(lm)).Evaluate(docs);
        Assert.Equal(alone.Overall.Tokens, batched.Overall.Tokens);
        Assert.Equal(alone.Overall.Nll, batched.Overall.Nll, 4);
        Assert.Equal(alone.Subsets.Select(s => s.Documents), batched.Subsets.Select(s => s.Documents));
    }
}
