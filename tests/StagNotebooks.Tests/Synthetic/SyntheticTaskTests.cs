using StagNotebooks.Evaluation.Synthetic;
using StagNotebooks.Model;
using TorchSharp;

namespace StagNotebooks.Tests.Synthetic;

public class SyntheticTaskTests
{
    public static TheoryData<string, int, int> Tasks() => new()
    {
        { "induction", 64, 64 }, { "recall", 64, 64 }, { "pointer-1", 64, 64 }, { "pointer-2", 64, 64 }, { "pointer-3", 64, 64 },
        { "compose-1", 64, 64 }, { "compose-3", 64, 64 }, { "induction", 48, 32 }, { "recall", 48, 32 }, { "pointer-2", 48, 32 }, { "compose-3", 48, 32 },
    };

    static SyntheticBatches Source(string task, int vocab, int length, long seed) => new(SyntheticTaskSpec.Parse(task).Create(vocab, length), seed);

    [Theory, MemberData(nameof(Tasks))]
    public void The_same_seed_and_index_give_the_same_batch(string task, int vocab, int length)
    {
        var a = Source(task, vocab, length, 5).Samples(17, 4);
        var b = Source(task, vocab, length, 5).Samples(17, 4);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(a[i].Tokens, b[i].Tokens);
            Assert.Equal(a[i].AnswerPositions, b[i].AnswerPositions);
            Assert.Equal(a[i].Answers, b[i].Answers);
        }
    }

    [Theory, MemberData(nameof(Tasks))]
    public void Other_seeds_and_indices_differ(string task, int vocab, int length)
    {
        var a = Source(task, vocab, length, 5).Samples(17, 4);
        var otherSeed = Source(task, vocab, length, 6).Samples(17, 4);
        var otherIndex = Source(task, vocab, length, 5).Samples(18, 4);
        Assert.NotEqual(a.SelectMany(s => s.Tokens), otherSeed.SelectMany(s => s.Tokens));
        Assert.NotEqual(a.SelectMany(s => s.Tokens), otherIndex.SelectMany(s => s.Tokens));
    }

    [Theory, MemberData(nameof(Tasks))]
    public void The_brute_force_solver_agrees_with_every_generated_answer(string task, int vocab, int length)
    {
        var src = Source(task, vocab, length, 3);
        int checkedAnswers = 0;
        foreach (var s in src.Samples(0, 32).Concat(src.Samples(SyntheticBatches.EvalOffset, 32)))
        {
            Assert.Equal(length, s.Tokens.Length);
            Assert.All(s.Tokens, t => Assert.InRange(t, 0, vocab - 1));
            Assert.NotEmpty(s.AnswerPositions);
            for (int j = 0; j < s.AnswerPositions.Length; j++)
            {
                int q = s.AnswerPositions[j];
                // The solver sees the prefix up to q only: the answer must be determined by what is causal.
                Assert.Equal(s.Answers[j], src.Task.Solve(s.Tokens.AsSpan(0, q + 1), src.Instance));
                if (q + 1 < length && !task.StartsWith("compose", StringComparison.Ordinal)) Assert.Equal(s.Answers[j], s.Tokens[q + 1]);
                checkedAnswers++;
            }
        }
        Assert.True(checkedAnswers > 64 * 4, $"only {checkedAnswers} answers checked");
    }

    [Fact]
    public void Pointer_chasing_hops_compose_the_one_hop_table()
    {
        // Same seed ⇒ same tables; the 2-hop answer is the 1-hop answer looked up once more.
        var one = Source("pointer-1", 64, 64, 9).Samples(0, 1)[0];
        var two = Source("pointer-2", 64, 64, 9).Samples(0, 1)[0];
        int sep = Array.IndexOf(one.Tokens, 0L);
        var f = Enumerable.Range(0, sep / 2).ToDictionary(i => one.Tokens[2 * i], i => one.Tokens[2 * i + 1]);
        for (int j = 0; j < two.AnswerPositions.Length; j++) Assert.Equal(f[f[two.Tokens[two.AnswerPositions[j]]]], two.Answers[j]);
    }

    [Fact]
    public void Targets_are_ignored_except_at_answers()
    {
        var src = Source("recall", 64, 64, 1);
        var (x, y) = src.Batch(3, 4, 64, torch.CPU);
        var s = src.Samples(3, 4);
        Assert.Equal(new long[] { 4, 64 }, x.shape);
        long scored = y.ne(SyntheticBatches.IgnoreIndex).sum().item<long>();
        Assert.Equal(s.Sum(z => z.AnswerPositions.Length), scored);
        Assert.Equal(s[0].Tokens, x[0].data<long>().ToArray());
        Assert.Throws<ArgumentException>(() => src.Batch(0, 2, 32, torch.CPU));
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("pointer-0")]
    [InlineData("induction-2")]
    public void Bad_task_names_are_errors_naming_the_field(string name)
    {
        var e = Assert.Throws<ConfigException>(() => SyntheticTaskSpec.Parse(name));
        Assert.Equal("task", e.Field);
    }

    [Fact]
    public void A_vocabulary_too_small_for_the_task_is_an_error()
    {
        Assert.Throws<ConfigException>(() => SyntheticTaskSpec.Parse("induction").Create(10, 64));
        Assert.Throws<ConfigException>(() => SyntheticTaskSpec.Parse("compose-3").Create(8, 64));
    }
}
