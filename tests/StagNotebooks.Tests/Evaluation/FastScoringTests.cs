using StagNotebooks.Evaluation;
using StagNotebooks.Model;
using StagNotebooks.Tests.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Evaluation;

/// <summary>
/// The scorer's fast path (<see cref="StagFormerLanguageModel.ScoreTargets"/>: head on the scored rows only) gives the
/// numbers of the reference path (<see cref="ILanguageModel"/>'s default over full log-softmax rows) within 1e-5 nats,
/// and the same argmax.
/// </summary>
public class FastScoringTests
{
    static long[] Sequence(int length, int seed, int vocab)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (long)rng.Next(vocab)).ToArray();
    }

    [Theory]
    [InlineData("p1")]
    [InlineData("p2-Separate-wfull")]
    [InlineData("p3-mix")]
    [InlineData("p2-learned-pos-gelu-untied")]
    public void Head_on_scored_rows_matches_the_full_forward(string variant)
    {
        var c = Variants.Get(variant);
        using var model = Variants.Model(c);
        var lm = new StagFormerLanguageModel(model);
        var sequences = new[] { 32, 7, 20, 1 }.Select((n, i) => Sequence(n, 100 + i, c.VocabSize)).ToList();
        var rows = new[] { (16, 16), (0, 7), (3, 5), (0, 1) };
        var targets = rows.SelectMany((r, i) => Sequence(r.Item2, 200 + i, c.VocabSize)).ToArray();
        var fast = lm.ScoreTargets(sequences, rows, targets);
        var reference = ((ILanguageModel)new OneWindowPerCall(lm)).ScoreTargets(sequences, rows, targets);
        Assert.Equal(reference.LogProbs.Length, fast.LogProbs.Length);
        for (int r = 0; r < fast.LogProbs.Length; r++)
            Assert.True(Math.Abs(reference.LogProbs[r] - fast.LogProbs[r]) < 1e-5, $"{variant} row {r}: {reference.LogProbs[r]} vs {fast.LogProbs[r]}");
        Assert.Equal(reference.IsGreedy, fast.IsGreedy);
    }

    [Fact]
    public void Final_then_head_is_the_forward()
    {
        var c = Variants.Get("p3-mix");
        using var model = Variants.Model(c);
        using var ng = torch.no_grad();
        using var tokens = torch.tensor(Sequence(2 * 12, 7, c.VocabSize), new long[] { 2, 12 });
        using var logits = model.forward(new ModelInput(tokens)).Logits;   // (2, 12, V)
        using var final = model.Final(new ModelInput(tokens));             // (2, 12, d)
        using var head = model.Head(final);
        Assert.True(torch.allclose(logits, head, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void With_logits_hooks_attached_scoring_sees_the_hooked_logits()
    {
        var c = Variants.Get("p2-Separate-wfull");
        using var model = Variants.Model(c);
        var lm = new StagFormerLanguageModel(model);
        var tokens = Sequence(10, 3, c.VocabSize);
        long target = tokens[5];
        // a hook that makes `target` the argmax everywhere: only a path that applies the hooks sees it
        var bias = new float[c.VocabSize];
        bias[target] = 1e3f;
        using var boost = torch.tensor(bias);                                    // (V)
        var hooks = new HookSet().Add(HookNames.Logits, (v, _) => v + boost);   // (B, T, V)
        var scores = ModelHooks.RunWithHooks(hooks, () => lm.ScoreTargets(new[] { tokens }, new[] { (0, 10) }, Enumerable.Repeat(target, 10).ToArray()));
        Assert.All(scores.IsGreedy, Assert.True);
        Assert.All(scores.LogProbs, lp => Assert.True(lp > -1e-3));
    }

    [Fact]
    public void Greedy_is_argmax_equal_to_the_target_ties_going_to_the_first_id()
    {
        using var lp = torch.tensor(new float[] { -1, -3, -1, -2,     // target 2 ties with id 0: argmax is 0
                                                  -4, -1, -2, -3,     // target 1 the unique max
                                                  -1, -2, -3, -4,     // target 3 below the max
                                                  -2, -2, -5, -5 },   // target 0 ties with id 1 and comes first
            new long[] { 4, 4 });
        var s = TargetScoring.Pick(lp, new long[] { 2, 1, 3, 0 });
        Assert.Equal(new[] { false, true, false, true }, s.IsGreedy);
        Assert.Equal(new[] { -1.0, -1, -4, -2 }, s.LogProbs);
    }
}
