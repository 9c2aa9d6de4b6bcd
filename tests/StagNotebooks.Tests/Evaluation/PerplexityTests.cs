using StagNotebooks.Evaluation;
using StagNotebooks.Model;
using StagNotebooks.Tests.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Evaluation;

public class PerplexityTests
{
    const int V = 7;
    /// <summary>p(next = (prev + 1) mod V) = 0.7; the other 6 ids share 0.3.</summary>
    static readonly FixedBigramModel Counting = new(V, prev => new Dictionary<long, double> { [(prev + 1) % V] = 0.7 }, maxContext: 5);

    static double ManualNll(long[] t) =>
        -Enumerable.Range(1, t.Length - 1).Sum(i => Math.Log(t[i] == (t[i - 1] + 1) % V ? 0.7 : 0.05));

    [Fact]
    public void Subsets_combine_exactly_to_the_overall_figures()
    {
        var docs = new[]
        {
            new EvalDocument("news", new long[] { 0, 1, 2, 3, 5, 6, 0, 1, 4, 4, 5, 6 }, 40),   // longer than the context: windows
            new EvalDocument("news", new long[] { 2, 3 }, 3),
            new EvalDocument("fiction", new long[] { 6, 0, 2, 2, 3 }, 11),
            new EvalDocument("fiction", new long[] { 4 }, 5),                                   // nothing to predict: skipped
        };
        var r = new PerplexityEvaluator(Counting, stride: 2).Evaluate(docs);

        Assert.Equal(new[] { "fiction", "news" }, r.Subsets.Select(s => s.Subset));
        Assert.Equal(11 + 1 + 4, r.Overall.Tokens);
        Assert.Equal(40 + 3 + 11, r.Overall.Bytes);
        Assert.Equal(3, r.Overall.Documents);
        Assert.Equal(docs.Take(3).Sum(d => ManualNll(d.Tokens)), r.Overall.Nll, 4);
        Assert.Equal(ManualNll(docs[2].Tokens), r.Subsets[0].Nll, 4);
        // Token-weighted mean of subset losses = overall loss; byte-weighted mean of subset bpb = overall bpb.
        Assert.Equal(r.Overall.Loss, r.Subsets.Sum(s => s.Loss * s.Tokens) / r.Subsets.Sum(s => s.Tokens), 12);
        Assert.Equal(r.Overall.BitsPerByte, r.Subsets.Sum(s => s.BitsPerByte * s.Bytes) / r.Subsets.Sum(s => s.Bytes), 12);
        Assert.Equal(Math.Exp(r.Overall.Loss), r.Overall.Perplexity, 12);
        Assert.Equal(r.Overall.Nll / Math.Log(2) / 54, r.Overall.BitsPerByte, 12);
    }

    [Theory]
    [InlineData(20, 1, 6, 1)]
    [InlineData(20, 1, 6, 4)]
    [InlineData(20, 1, 6, 6)]
    [InlineData(6, 1, 6, 3)]
    [InlineData(7, 1, 6, 3)]
    [InlineData(30, 17, 8, 3)]
    [InlineData(3, 1, 8, 4)]
    public void Window_plan_scores_every_target_exactly_once_within_the_context(int length, int firstTarget, int context, int stride)
    {
        var plan = TokenScoring.Plan(length, firstTarget, context, stride);
        var scored = plan.SelectMany(w => Enumerable.Range(w.FirstTarget, w.EndTarget - w.FirstTarget)).ToList();
        Assert.Equal(Enumerable.Range(firstTarget, length - firstTarget), scored);
        foreach (var w in plan)
        {
            Assert.InRange(w.InputEnd - w.InputStart, 1, context);
            Assert.Equal(w.EndTarget - 1, w.InputEnd);                        // the last target's predicting position is read
            Assert.True(w.InputStart <= w.FirstTarget - 1);                   // …and so is the first target's
            Assert.True(w.FirstTarget - w.InputStart >= Math.Min(w.FirstTarget, context - stride + 1), "each target keeps at least context − stride + 1 tokens");
        }
    }

    /// <summary>A long document scored with a small context equals scoring each target separately from its expected left context.</summary>
    [Theory]
    [InlineData(1)]   // stride 1: every target sees min(t, C) tokens
    [InlineData(8)]   // stride = C: disjoint chunks of C targets
    public void Sliding_windows_on_a_real_model_match_a_manual_per_token_computation(int stride)
    {
        var c = Variants.Tiny with { Stacks = 2, MaxContext = 8 };
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(c);
        var tokens = Variants.Tokens(c, batch: 1, length: 21)[0].data<long>().ToArray();
        var lm = new StagFormerLanguageModel(m);

        var got = TokenScoring.Score(lm, tokens, firstTarget: 1, stride).LogProbs;
        Assert.Equal(20, got.Length);
        using var ng = torch.no_grad();
        for (int t = 1; t < tokens.Length; t++)
        {
            // Stride C: targets in disjoint chunks of C; a chunk reads the C tokens before its last target
            // (the clipped last chunk therefore reads further back than its own targets).
            int chunkEnd = Math.Min(tokens.Length, c.MaxContext * ((t - 1) / c.MaxContext + 1) + 1);
            int start = Math.Max(0, (stride == 1 ? t + 1 : chunkEnd) - 1 - c.MaxContext);
            var context = tokens[start..t];
            var logits = m.forward(new ModelInput(torch.tensor(context, new long[] { 1, context.Length }))).Logits;   // (1, T, V)
            double expected = logits[0, -1].log_softmax(-1)[tokens[t]].item<float>();
            Assert.True(Math.Abs(expected - got[t - 1]) < 1e-4, $"target {t}: window {got[t - 1]}, manual {expected}");
        }
    }

    [Fact]
    public void The_model_adapter_restores_training_mode_and_rejects_ids_outside_the_vocabulary()
    {
        var c = Variants.Tiny with { Stacks = 2, Dropout = 0.5 };
        var m = Variants.Model(c);
        m.train();
        var lm = new StagFormerLanguageModel(m);
        using var a = lm.LogProbs(new long[] { 1, 2, 3 });
        using var b = lm.LogProbs(new long[] { 1, 2, 3 });
        Variants.AssertClose(a, b, 0, "no dropout while scoring");
        Assert.True(m.training);
        var e = Assert.Throws<ArgumentException>(() => lm.LogProbs(new long[] { 1, c.VocabSize }));
        Assert.Equal($"token id {c.VocabSize} is outside the model's vocabulary [0, {c.VocabSize}): does the tokenizer match the model?", e.Message);
    }
}
