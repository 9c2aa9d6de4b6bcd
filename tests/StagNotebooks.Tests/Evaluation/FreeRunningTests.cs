using StagNotebooks.Decoding;
using StagNotebooks.Evaluation;
using StagNotebooks.Model;
using StagNotebooks.Tests.Model;
using TorchSharp;

namespace StagNotebooks.Tests.Evaluation;

public class FreeRunningTests
{
    const int Prompt = 4, Length = 12;
    static readonly FreeRunningOptions Options = new() { PromptTokens = Prompt, GenerateTokens = 5 };

    static List<long[]> Sequences(StagFormerConfig c) =>
        Enumerable.Range(0, 2).Select(i => Variants.Tokens(c, batch: 1, length: Length, seed: 10 + i)[0].data<long>().ToArray()).ToList();

    [Theory]
    [InlineData("sequential")]
    [InlineData("parallel")]
    public void Exact_engines_reproduce_the_teacher_forced_loss(string engineName)
    {
        var c = Variants.Tiny with { Stacks = 2 };
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(c);
        IDecodingEngine engine = engineName == "sequential" ? new SequentialDecoder(m) : new StaggeredParallelDecoder(m, threadsPerStack: 1);
        var r = FreeRunningEvaluator.Evaluate(engine, Sequences(c), Options, countBytes: ids => 2L * ids.Count, teacherForced: new StagFormerLanguageModel(m));

        Assert.Equal(2, r.Sequences);
        Assert.Equal(2 * (Length - Prompt), r.Tokens);
        Assert.True(Math.Abs(r.Loss - r.TeacherForcedLoss!.Value) < 1e-4, $"free-running {r.Loss} vs teacher-forced {r.TeacherForcedLoss}");
        Assert.Equal(r.Nll / Math.Log(2) / (2.0 * r.Tokens), r.BitsPerByte!.Value, 12);
        Assert.Equal(engineName, r.Engine);
    }

    [Theory]
    [InlineData(RecurrentPrefill.TwoPass)]
    [InlineData(RecurrentPrefill.Recurrent)]
    public void Recurrent_decoding_is_not_the_teacher_forced_model(RecurrentPrefill prefill)
    {
        var c = Variants.Tiny with { Stacks = 2, Weights = WeightSharing.Shared };
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(c);
        var r = FreeRunningEvaluator.Evaluate(new RecurrentDecoder(m, prefill), Sequences(c), Options, teacherForced: new StagFormerLanguageModel(m));
        Assert.True(Math.Abs(r.Loss - r.TeacherForcedLoss!.Value) > 1e-3, $"recurrent {r.Loss} should differ from teacher-forced {r.TeacherForcedLoss}");
        Assert.Null(r.BitsPerByte);
    }

    [Fact]
    public void Greedy_match_is_complete_on_the_engines_own_greedy_text_and_counts_the_matching_prefix()
    {
        var c = Variants.Tiny with { Stacks = 2 };
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(c);
        var engine = new SequentialDecoder(m);
        var prompt = Variants.Tokens(c, batch: 1, length: Prompt);
        var truth = prompt[0].data<long>().Concat(TextGenerator.Generate(engine, prompt, 5).Tokens[0]).ToArray();
        Assert.Equal((5, 5), FreeRunningEvaluator.GreedyMatch(engine, truth, Prompt, 5));

        var altered = (long[])truth.Clone();
        altered[Prompt + 2] = (altered[Prompt + 2] + 1) % c.VocabSize;   // the third generated token no longer matches
        Assert.Equal((4, 2), FreeRunningEvaluator.GreedyMatch(engine, altered, Prompt, 5));

        var r = FreeRunningEvaluator.Evaluate(engine, new[] { truth, altered }, Options);
        Assert.Equal(2, r.GreedyPrompts);
        Assert.Equal(9.0 / 10, r.GreedyTokenMatch, 12);
        Assert.Equal(3.5, r.GreedyMeanMatchedPrefix, 12);
    }
}
