using StagNotebooks.Data;
using StagNotebooks.Model;
using StagNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Model;

/// <summary>The quality-gap hypotheses: zero-initialised cross output, per-stack residual init, no decay on null slots.</summary>
public class QualityGapOptionTests
{
    static readonly StagFormerConfig Sep = Variants.Tiny with { Stacks = 2, Weights = WeightSharing.Separate };

    [Fact]
    public void With_zero_cross_output_separate_2xh_is_exactly_an_h_layer_model_over_stack_2()
    {
        using var stag = new StagFormerModel(Sep with { ZeroInitCrossOutput = true }, seed: 11);
        using var baseline = new StagFormerModel(Sep with { Stacks = 1 }, seed: 99);
        var source = stag.state_dict();
        using (torch.no_grad())
            foreach (var (name, p) in baseline.named_parameters())
                p.copy_(source[name.StartsWith("stacks.0.", StringComparison.Ordinal) ? "stacks.1." + name["stacks.0.".Length..] : name]);
        stag.eval(); baseline.eval();
        var tokens = Variants.Tokens(Sep, batch: 3, length: 12);
        using var ng = torch.no_grad();
        var a = stag.forward(new ModelInput(tokens)).Logits;
        var b = baseline.forward(new ModelInput(tokens)).Logits;
        Assert.Equal(0.0, (a - b).abs().max().item<float>());   // exact: cross-attention adds zeros
        foreach (var (name, p) in stag.named_parameters().Where(x => x.name.EndsWith("cross_attn.o_proj.weight", StringComparison.Ordinal)))
            Assert.Equal(0.0, p.abs().max().item<float>());
    }

    [Theory]
    [InlineData(CrossGateKind.PerLayer)]
    [InlineData(CrossGateKind.PerHead)]
    public void A_closed_cross_gate_makes_separate_2xh_exactly_stack_2_alone_and_an_open_one_does_not(CrossGateKind gate)
    {
        using var stag = Variants.Model(Sep with { CrossGate = gate }, seed: 11);   // every weight random, o_proj too
        using var baseline = new StagFormerModel(Sep with { Stacks = 1 }, seed: 99);
        var source = stag.state_dict();
        using (torch.no_grad())
        {
            foreach (var (name, p) in baseline.named_parameters())
                p.copy_(source[name.StartsWith("stacks.0.", StringComparison.Ordinal) ? "stacks.1." + name["stacks.0.".Length..] : name]);
            foreach (var (name, p) in stag.named_parameters().Where(x => x.name.EndsWith("cross_gate", StringComparison.Ordinal))) p.zero_();
        }
        baseline.eval();
        var tokens = Variants.Tokens(Sep, batch: 3, length: 12);
        using var ng = torch.no_grad();
        var b = baseline.forward(new ModelInput(tokens)).Logits;
        Assert.Equal(0.0, (stag.forward(new ModelInput(tokens)).Logits - b).abs().max().item<float>());   // exact: tanh(0) = 0
        foreach (var (_, p) in stag.named_parameters().Where(x => x.name.EndsWith("cross_gate", StringComparison.Ordinal))) p.fill_(0.5);
        Assert.True((stag.forward(new ModelInput(tokens)).Logits - b).abs().max().item<float>() > 1e-3);
    }

    [Fact]
    public void The_cross_gate_starts_closed_is_one_dimensional_and_not_decayed()
    {
        using var m = new StagFormerModel(Sep with { CrossGate = CrossGateKind.PerHead }, seed: 5);
        var gates = m.named_parameters().Where(x => x.name.EndsWith("cross_gate", StringComparison.Ordinal)).ToList();
        Assert.Equal(Sep.LayersPerStack, gates.Count);   // one per cross-attention layer of stack 2
        Assert.All(gates, g => { Assert.Equal(new long[] { Sep.Heads }, g.parameter.shape); Assert.Equal(0.0, g.parameter.abs().max().item<float>()); });
        Assert.All(gates, g => Assert.False(Trainer.Decays(g.name, g.parameter, new TrainConfig { Model = Sep })));
        var e = Assert.Throws<ConfigException>(() => (Sep with { Stacks = 1, CrossGate = CrossGateKind.PerLayer }).Validate());
        Assert.Equal("config field CrossGate: a baseline (Stacks = 1) has no cross-attention to gate", e.Message);
    }

    [Fact]
    public void Without_the_option_cross_attention_changes_the_logits()
    {
        using var stag = new StagFormerModel(Sep, seed: 11);
        Assert.True(stag.named_parameters().Where(x => x.name.EndsWith("cross_attn.o_proj.weight", StringComparison.Ordinal)).All(x => x.parameter.abs().max().item<float>() > 0));
    }

    [Fact]
    public void Stack_depth_init_scales_output_projections_by_each_streams_own_depth()
    {
        var c = Sep with { DModel = 128, Heads = 4, FfnHidden = 512 };
        double Std(StagFormerConfig cfg)
        {
            using var m = new StagFormerModel(cfg, seed: 3);
            return m.named_parameters().Where(x => x.name.EndsWith("self_attn.o_proj.weight", StringComparison.Ordinal))
                    .Select(x => x.parameter.std().item<float>()).Average();
        }
        double total = Std(c), stack = Std(c with { ResidualInit = ResidualInitScale.StackDepth });
        Assert.InRange(total, 0.02 / Math.Sqrt(2 * 4) * 0.95, 0.02 / Math.Sqrt(2 * 4) * 1.05);   // p·h = 4
        Assert.InRange(stack, 0.02 / Math.Sqrt(2 * 2) * 0.95, 0.02 / Math.Sqrt(2 * 2) * 1.05);   // h = 2
    }

    [Fact]
    public void Null_slots_are_not_decayed_unless_asked_for()
    {
        var train = new TrainConfig { Model = Sep };
        using var m = new StagFormerModel(Sep, seed: 1);
        var named = m.named_parameters().ToList();
        var nulls = named.Where(x => x.name.Contains("null_")).ToList();
        Assert.NotEmpty(nulls);
        Assert.All(nulls, x => Assert.Equal(4, x.parameter.dim()));               // (1, H, 1, D): passes "dim ≥ 2"
        Assert.All(nulls, x => Assert.False(Trainer.Decays(x.name, x.parameter, train), x.name));
        Assert.All(nulls, x => Assert.True(Trainer.Decays(x.name, x.parameter, train with { DecayNullSlots = true }), x.name));
        Assert.All(named.Where(x => x.name.EndsWith("norm.weight", StringComparison.Ordinal)), x => Assert.False(Trainer.Decays(x.name, x.parameter, train)));
        Assert.All(named.Where(x => x.name.EndsWith("q_proj.weight", StringComparison.Ordinal)), x => Assert.True(Trainer.Decays(x.name, x.parameter, train)));
        Assert.True(Trainer.Decays("tok_embeddings.weight", named.First(x => x.name == "tok_embeddings.weight").parameter, train));
    }

    [Fact]
    public void The_trainers_optimizer_puts_null_slots_in_the_group_without_decay()
    {
        var smoke = Presets.Config("smoke");
        foreach (var decayNull in new[] { false, true })
        {
            var c = smoke with { Model = smoke.Model with { VocabSize = 31 }, WeightDecay = 0.5, DecayNullSlots = decayNull };
            using var dir = new TestPaths.TempDir();
            using var trainer = new Trainer(RunDirectory.Open(dir.Path, "decay", c, "none"), new CountingSource(), null, torch.CPU);
            var nullHandles = trainer.Model.named_parameters().Where(x => x.name.Contains("null_")).Select(x => x.parameter.Handle).ToHashSet();
            Assert.NotEmpty(nullHandles);
            var groups = trainer.Optimizer.ParamGroups.Cast<TorchSharp.Modules.AdamW.ParamGroup>().ToList();
            var decayed = groups.Where(g => g.Options.weight_decay > 0).SelectMany(g => g.Parameters).Select(p => p.Handle).ToHashSet();
            Assert.Equal(decayNull, nullHandles.All(decayed.Contains));
            Assert.True(decayNull || !nullHandles.Any(decayed.Contains));
        }
    }

    sealed class CountingSource : IBatchSource
    {
        public (Tensor Inputs, Tensor Targets) Batch(long index, int batchSize, int contextLength, Device device) =>
            (torch.zeros(batchSize, contextLength, dtype: ScalarType.Int64), torch.ones(batchSize, contextLength, dtype: ScalarType.Int64));
    }

    [Fact]
    public void The_options_round_trip_through_json()
    {
        var c = new TrainConfig { Model = Sep with { ZeroInitCrossOutput = true, ResidualInit = ResidualInitScale.StackDepth }, ContextLength = 16, DecayNullSlots = true };
        var back = TrainConfig.FromJson(c.ToJson());
        Assert.Equal(c.Model, back.Model);
        Assert.True(back.DecayNullSlots);
        Assert.Equal(ResidualInitScale.StackDepth, c.WithOverrides(new[] { "Model.ResidualInit=StackDepth" }).Model.ResidualInit);
    }
}
