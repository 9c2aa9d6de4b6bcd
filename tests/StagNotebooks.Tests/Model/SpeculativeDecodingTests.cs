using StagNotebooks.Decoding;
using StagNotebooks.Model;
using TorchSharp;

namespace StagNotebooks.Tests.Model;

public class SpeculativeDecodingTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(6)]
    public void Speculative_output_equals_the_targets_greedy_output(int lookahead)
    {
        using var scope = torch.NewDisposeScope();
        var target = Variants.Model(Variants.Tiny with { Stacks = 1, LayersPerStack = 3 }, seed: 5);
        var draft = Variants.Model(Variants.Tiny with { Stacks = 1, LayersPerStack = 1 }, seed: 6);
        var prompt = Variants.Tokens(target.Config, batch: 1, length: 4);
        var greedy = TextGenerator.Generate(new SequentialDecoder(target), prompt, 20).Tokens[0];
        var spec = new SpeculativeDecoder(target, draft, lookahead).Generate(prompt, 20);
        Assert.Equal(greedy, spec.Tokens);
        Assert.InRange(spec.Accepted, 0, spec.Proposed);
        Assert.True(spec.TargetCalls <= 20);
    }

    [Fact]
    public void A_draft_that_is_the_target_is_always_accepted()
    {
        using var scope = torch.NewDisposeScope();
        var target = Variants.Model(Variants.Tiny with { Stacks = 2 }, seed: 5);
        var prompt = Variants.Tokens(target.Config, batch: 1, length: 4);
        var spec = new SpeculativeDecoder(target, target, lookahead: 4).Generate(prompt, 21);
        Assert.Equal(1.0, spec.AcceptanceRate);
        Assert.Equal(TextGenerator.Generate(new SequentialDecoder(target), prompt, 21).Tokens[0], spec.Tokens);
        Assert.Equal(1 + 4, spec.TargetCalls);   // prefill + one call per 5 tokens
    }

    [Fact]
    public void Windowed_models_are_refused_with_the_reason()
    {
        var m = Variants.Model(Variants.Tiny with { Stacks = 2, CrossWindow = 2 });
        var e = Assert.Throws<ArgumentException>(() => new SpeculativeDecoder(m, m));
        Assert.Equal("speculative decoding rolls caches back; windowed cross-attention keeps a ring that cannot be rolled back", e.Message);
    }
}
