using StagNotebooks.Decoding;
using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Model;

/// <summary>
/// Every engine's session can prefill after steps and roll back (what speculative decoding needs), and speculative
/// decoding over any engine's sessions gives the target's greedy tokens.
/// </summary>
public class SpeculativeSessionTests
{
    static readonly EngineKind[] TwoPassEngines = { EngineKind.Sequential, EngineKind.Parallel, EngineKind.Stacked };

    [Theory]
    [InlineData("p2-Separate-wfull")]
    [InlineData("p3-Shared-wfull")]
    [InlineData("p2-gate-head")]
    [InlineData("p3-mix")]
    [InlineData("p1")]
    public void Prefill_after_steps_and_a_rollback_reproduce_the_teacher_forced_logits(string variant)
    {
        var c = Variants.Get(variant);
        using var scope = torch.NewDisposeScope();
        using var ng = torch.no_grad();
        var m = Variants.Model(c);
        var tokens = Variants.Tokens(c);
        var expected = m.forward(new ModelInput(tokens)).Logits;                     // (B, T, V)
        foreach (var kind in TwoPassEngines)
        {
            using var engine = EngineKinds.Create(m, kind);
            using var session = engine.Start(tokens.shape[0]);
            session.Prefill(tokens.narrow(1, 0, 2));
            session.Step(tokens.narrow(1, 2, 1));
            session.Step(tokens.narrow(1, 3, 1));
            session.Step(tokens.narrow(1, 0, 1));                                 // a token to be rolled back
            session.Truncate(4);
            Assert.Equal(4, session.Position);
            var got = new List<Tensor> { session.Prefill(tokens.narrow(1, 4, 3)) }; // positions 4..6 after steps
            for (int i = 7; i < Variants.T; i++) got.Add(session.Step(tokens.narrow(1, i, 1)).unsqueeze(1));
            Variants.AssertClose(expected.narrow(1, 4, Variants.T - 4), torch.cat(got, 1), 1e-4, $"{kind.Name()} on {variant}");
            Assert.Equal(Variants.T, session.Position);
        }
    }

    [Theory]
    [InlineData(EngineKind.Parallel, EngineKind.Sequential)]
    [InlineData(EngineKind.Stacked, EngineKind.Stacked)]
    [InlineData(EngineKind.Sequential, EngineKind.Parallel)]
    public void Speculative_decoding_over_any_engines_sessions_gives_the_targets_greedy_tokens(EngineKind targetEngine, EngineKind draftEngine)
    {
        using var scope = torch.NewDisposeScope();
        var target = Variants.Model(Variants.Tiny with { Stacks = 2, LayersPerStack = 2 }, seed: 5);
        var draft = Variants.Model(Variants.Tiny with { Stacks = 2, LayersPerStack = 1, Weights = WeightSharing.Shared }, seed: 6);
        var prompt = Variants.Tokens(target.Config, batch: 1, length: 4);
        using var sequential = EngineKinds.Create(target, EngineKind.Sequential);
        var greedy = TextGenerator.Generate(sequential, prompt, 20).Tokens[0];
        var spec = new SpeculativeDecoder(target, draft, lookahead: 3, targetEngine, draftEngine).Generate(prompt, 20);
        Assert.Equal(greedy, spec.Tokens);
        Assert.InRange(spec.Accepted, 0, spec.Proposed);
    }

    [Fact]
    public void TextGenerator_continues_an_open_session()
    {
        var c = Variants.Tiny with { Stacks = 2 };
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(c);
        var prompt = Variants.Tokens(c, batch: 2, length: 3);
        using var sequential = EngineKinds.Create(m, EngineKind.Sequential);
        var whole = TextGenerator.Generate(sequential, prompt, 8).Tokens;
        using var stacked = EngineKinds.Create(m, EngineKind.Stacked);
        using var session = stacked.Start(2, 16);
        Assert.Equal(whole, TextGenerator.Generate(session, prompt, 8).Tokens);
        Assert.Equal(3 + 7, session.Position);   // the last token is sampled, not yet fed
    }

    [Fact]
    public void The_retired_batched_engine_names_its_replacement()
    {
        var m = Variants.Model(Variants.Tiny with { Stacks = 2, Weights = WeightSharing.Shared });
        var byName = Assert.Throws<ArgumentException>(() => EngineKinds.Parse("batched"));
        Assert.Contains("use 'stacked'", byName.Message);
#pragma warning disable CS0618   // the retired kind on purpose
        var byKind = Assert.Throws<ArgumentException>(() => EngineKinds.Create(m, EngineKind.Batched));
        Assert.Equal(EngineKind.Batched, System.Text.Json.JsonSerializer.Deserialize<EngineKind>("\"Batched\""));
#pragma warning restore CS0618
        Assert.Equal(byName.Message, byKind.Message);
        Assert.DoesNotContain(EngineKinds.Names, n => n == "batched");
    }
}
