using StagNotebooks.Evaluation;

namespace StagNotebooks.Tests.Evaluation;

public class MultipleChoiceScorerTests
{
    // Ids: ' '=0, 'a'=1, 'b'=2, 'c'=3, then the rest.
    static readonly CharTokenizer Tok = new(" abcdeq:?\n");
    static int V => Tok.Alphabet.Length;

    /// <summary>After ' ': 'a' 0.5, 'b' 0.1. After 'a': 'a' 0.5. After 'b': ' ' 0.5. After anything else: ' ' 0.2.</summary>
    static FixedBigramModel Model(int maxContext = 64) => new(V, prev => prev switch
    {
        0 => new Dictionary<long, double> { [1] = 0.5, [2] = 0.1 },
        1 => new Dictionary<long, double> { [1] = 0.5 },
        2 => new Dictionary<long, double> { [0] = 0.5 },
        _ => new Dictionary<long, double> { [0] = 0.2 },
    }, maxContext);

    static EvalTask Task(TaskFormat format, params TaskExample[] examples) => new("hand", format, examples);
    static TaskExample Mc(string context, int gold, params string[] continuations) =>
        new(continuations.Select(c => new TaskChoice(context, c)).ToList(), gold);

    [Fact]
    public void Log_likelihood_is_the_sum_over_continuation_tokens_only()
    {
        var scorer = new MultipleChoiceScorer(Model(), Tok);
        var s = scorer.LogLikelihood("q:", " ab");
        // p(' ' | ':') = 0.2, p('a' | ' ') = 0.5, p('b' | 'a') = 0.5 / 9 (the 9 ids other than 'a' share 0.5).
        Assert.Equal(3, s.LogProbs.Length);
        Assert.Equal(Math.Log(0.2) + Math.Log(0.5) + Math.Log(0.5 / 9), s.Sum, 5);
        Assert.Equal(new[] { true, true, false }, s.IsGreedy);
    }

    [Fact]
    public void Acc_and_acc_norm_get_the_known_answers_and_differ_where_constructed_to()
    {
        // " a" = log .2 + log .5 = −2.30 beats " aaaa" = log .2 + 4 log .5 = −4.38 on the sum, but per character
        // (1 vs 4 characters) " aaaa" wins: −1.10 > −2.30. Gold = " aaaa": acc 0, acc_norm 1.
        // Item 2: " b" (log .2 + log .1) loses to " a" both ways; gold " a": acc 1, acc_norm 1.
        var task = Task(TaskFormat.Arc, Mc("q:", 1, " a", " aaaa"), Mc("q:", 1, " b", " a"));
        var r = new MultipleChoiceScorer(Model(), Tok).Score(task);
        Assert.Equal(new[] { 0, 1 }, r.Details.Select(d => d.Predicted));
        Assert.Equal(new int?[] { 1, 1 }, r.Details.Select(d => d.PredictedNorm));
        Assert.Equal(0.5, r.Accuracy);
        Assert.Equal(1.0, r.AccuracyNorm);
        Assert.Equal(Math.Log(0.2) + 4 * Math.Log(0.5), r.Details[0].LogLikelihoods[1], 5);
        Assert.Null(r.Perplexity);
    }

    [Fact]
    public void WinoGrande_partial_scoring_compares_contexts_on_the_shared_continuation()
    {
        var ex = TaskReaders.ParseLine(TaskFormat.WinoGrande, """{"sentence": "q: _ c", "option1": "a", "option2": "b", "answer": "2"}""");
        // Continuation " c" after "q: a" vs "q: b": p(' ' | 'b') = 0.5 beats p(' ' | 'a') = 0.5 / 9.
        var r = new MultipleChoiceScorer(Model(), Tok).Score(new EvalTask("wino", TaskFormat.WinoGrande, new[] { ex }));
        Assert.Equal(1, r.Details[0].Predicted);
        Assert.Equal(1.0, r.Accuracy);
        Assert.Null(r.AccuracyNorm);
        Assert.Equal(Math.Log(0.5) - Math.Log(0.5 / 9), r.Details[0].LogLikelihoods[1] - r.Details[0].LogLikelihoods[0], 5);
    }

    [Fact]
    public void Cloze_accuracy_is_greedy_match_of_every_token_and_perplexity_uses_the_mean_log_likelihood()
    {
        var task = new EvalTask("lambada", TaskFormat.Lambada, new[]
        {
            TaskReaders.ParseLine(TaskFormat.Lambada, """{"text": "q: c aa"}"""),   // ' ' then 'a','a': all argmax
            TaskReaders.ParseLine(TaskFormat.Lambada, """{"text": "q: c ab"}"""),   // 'b' after 'a' is not
        });
        var r = new MultipleChoiceScorer(Model(), Tok).Score(task);
        Assert.Equal(0.5, r.Accuracy);
        double ll1 = Math.Log(0.2) + Math.Log(0.5) + Math.Log(0.5), ll2 = Math.Log(0.2) + Math.Log(0.5) + Math.Log(0.5 / 9);
        Assert.Equal(Math.Exp(-(ll1 + ll2) / 2), r.Perplexity!.Value, 4);
        Assert.Null(r.AccuracyNorm);
    }

    [Fact]
    public void Few_shot_prompts_are_other_gold_examples_drawn_with_a_fixed_seed()
    {
        var examples = Enumerable.Range(0, 6).Select(i => Mc(new string('q', i + 1) + ":", i % 2, " a", " b")).ToArray();
        var task = Task(TaskFormat.Piqa, examples);
        var scorer = new MultipleChoiceScorer(Model(), Tok, new ScorerOptions { Shots = 2, Seed = 5 });
        string[] Prefixes(int seed) { var rng = new Random(seed); return Enumerable.Range(0, 6).Select(i => scorer.FewShotPrefix(task, i, rng)).ToArray(); }
        var first = Prefixes(5);
        Assert.Equal(first, Prefixes(5));
        Assert.NotEqual(first, Prefixes(6));
        for (int i = 0; i < 6; i++)
        {
            var shots = first[i].Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, shots.Length);
            Assert.Equal(2, shots.Distinct().Count());
            var golds = Enumerable.Range(0, 6).Where(j => j != i).Select(j => examples[j].Choices[0].Context + examples[j].Choices[examples[j].Gold].Continuation);
            Assert.All(shots, s => Assert.Contains(s, golds));
        }
    }

    [Fact]
    public void A_prompt_longer_than_the_context_keeps_its_continuation_and_the_nearest_context()
    {
        // MaxContext 4: the 3 continuation tokens are scored in one window reading the last 4 tokens before them.
        var model = Model(maxContext: 4);
        var s = new MultipleChoiceScorer(model, Tok).LogLikelihood("qqqqqqqq:", " ab");
        Assert.Equal(Math.Log(0.2) + Math.Log(0.5) + Math.Log(0.5 / 9), s.Sum, 5);
        Assert.Equal(1, model.Calls);
    }

    [Fact]
    public void An_empty_context_needs_a_bos_token()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new MultipleChoiceScorer(Model(), Tok).LogLikelihood("", "ab"));
        Assert.Equal("an empty context needs ScorerOptions.BosToken to score the first continuation token", e.Message);
        var withBos = new MultipleChoiceScorer(Model(), Tok, new ScorerOptions { BosToken = Tok.Id(' ') }).LogLikelihood("", "ab");
        Assert.Equal(Math.Log(0.5) + Math.Log(0.5 / 9), withBos.Sum, 5);
    }
}
