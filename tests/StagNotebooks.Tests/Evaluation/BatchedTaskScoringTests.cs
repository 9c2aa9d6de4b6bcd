using StagNotebooks.Evaluation;
using StagNotebooks.Tests.Model;

namespace StagNotebooks.Tests.Evaluation;

/// <summary>A task's examples scored together (all choices of all examples batched) get the numbers each example gets alone.</summary>
public class BatchedTaskScoringTests
{
    static readonly CharTokenizer Tok = new(" abcdefghijklmnopqrstuvwxyz.:?\n");

    [Theory]
    [InlineData(TaskFormat.HellaSwag, 0)]
    [InlineData(TaskFormat.HellaSwag, 2)]
    [InlineData(TaskFormat.Lambada, 0)]
    public void Scoring_a_task_at_once_matches_example_by_example(TaskFormat format, int shots)
    {
        var c = Variants.Get("p2-Separate-wfull");   // MaxContext 32: the longer prompts slide
        using var model = Variants.Model(c with { VocabSize = Math.Max(c.VocabSize, Tok.Alphabet.Length) });
        var lm = new StagFormerLanguageModel(model);
        var rng = new Random(5);
        string Word(int n) => new(Enumerable.Range(0, n).Select(_ => Tok.Alphabet[1 + rng.Next(26)]).ToArray());
        int choices = format == TaskFormat.Lambada ? 1 : 3;
        var examples = Enumerable.Range(0, 7).Select(i =>
        {
            var context = Word(3 + 6 * i) + ":";
            return new TaskExample(Enumerable.Range(0, choices).Select(j => new TaskChoice(context, " " + Word(1 + j))).ToList(), i % choices);
        }).ToList();
        var task = new EvalTask("t", format, examples);
        var options = new ScorerOptions { Shots = shots, MaxExamples = 6 };
        var scorer = new MultipleChoiceScorer(lm, Tok, options);
        var together = scorer.Score(task);
        // the reference: each example's choices in a call of their own, one window per forward, prompts drawn in the same order
        var alone = new MultipleChoiceScorer(new OneWindowPerCall(lm), Tok, options);
        var draws = new Random(options.Seed);
        Assert.Equal(6, together.Details.Count);
        for (int i = 0; i < 6; i++)
        {
            var prefix = alone.FewShotPrefix(task, i, draws);
            var expected = alone.LogLikelihoods(examples[i].Choices.Select(ch => (prefix + ch.Context, ch.Continuation)).ToList());
            for (int j = 0; j < choices; j++)
                Assert.True(Math.Abs(expected[j].Sum - together.Details[i].LogLikelihoods[j]) < 1e-4, $"example {i} choice {j}: {expected[j].Sum} vs {together.Details[i].LogLikelihoods[j]}");
            Assert.Equal(expected.Select(e => e.AllGreedy), together.Details[i].IsGreedy);
        }
    }
}
