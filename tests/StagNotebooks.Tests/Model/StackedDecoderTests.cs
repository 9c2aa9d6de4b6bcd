using StagNotebooks.Decoding;
using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Model;

/// <summary>The stacked engine: teacher-forced logits and the sequential engine's tokens, for every p, sharing, window and empty-row mode.</summary>
public class StackedDecoderTests
{
    static IEnumerable<(string Name, StagFormerConfig Config)> Configs()
    {
        foreach (var p in new[] { 2, 3, 4 })
            foreach (var w in new[] { WeightSharing.Separate, WeightSharing.Shared })
                foreach (int? win in new int?[] { null, 1, 3 })
                    foreach (var empty in new[] { EmptyCrossAttention.NullSlot, EmptyCrossAttention.Zero })
                        yield return ($"p{p}-{w}-w{win?.ToString() ?? "full"}-{empty}", Variants.Tiny with { Stacks = p, Weights = w, CrossWindow = win, EmptyCross = empty });
        yield return ("p4-Separate-mix", Variants.Tiny with { Stacks = 4, Combination = StackCombination.LearnedLinear });
        yield return ("p4-Shared-mix-w3", Variants.Tiny with { Stacks = 4, Weights = WeightSharing.Shared, Combination = StackCombination.LearnedLinear, CrossWindow = 3 });
        yield return ("p2-learned-pos-gelu-untied", Variants.Tiny with { Stacks = 2, Positional = PositionalEncoding.Learned, Ffn = FfnKind.Gelu, TiedEmbeddings = false });
        yield return ("p1-baseline", Variants.Tiny with { Stacks = 1 });
    }

    public static TheoryData<string> Names()
    {
        var d = new TheoryData<string>();
        foreach (var (n, _) in Configs()) d.Add(n);
        return d;
    }

    static StagFormerConfig Get(string name) => Configs().First(c => c.Name == name).Config;

    [Theory, MemberData(nameof(Names))]
    public void Stacked_decoding_reproduces_teacher_forced_logits_and_sequential_tokens(string name)
    {
        var c = Get(name);
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(c);
        using var engine = new StackedDecoder(m);
        foreach (long batch in new long[] { 1, 3 })
        {
            using (torch.no_grad())
            {
                var tokens = Variants.Tokens(c, batch: batch);
                var expected = m.forward(new ModelInput(tokens)).Logits;                 // (B, T, V)
                foreach (int prompt in new[] { 1, 4 })
                {
                    using var session = engine.Start(batch);
                    var got = new List<Tensor> { session.Prefill(tokens.narrow(1, 0, prompt)) };
                    for (int i = prompt; i < Variants.T; i++) got.Add(session.Step(tokens.narrow(1, i, 1)).unsqueeze(1));
                    Variants.AssertClose(expected, torch.cat(got, 1), 1e-4, $"{name}, batch {batch}, prompt {prompt}");
                    Assert.Equal(Variants.T, session.Position);
                }
            }
            var start = Variants.Tokens(c, batch: batch, length: 3);
            var reference = TextGenerator.Generate(new SequentialDecoder(m), start, maxNewTokens: 12).Tokens;
            Assert.Equal(reference, TextGenerator.Generate(engine, start, maxNewTokens: 12).Tokens);
        }
    }

    [Theory]
    [InlineData(WeightSharing.Separate)]
    [InlineData(WeightSharing.Shared)]
    public void Weights_are_stacked_per_stack_and_shared_weights_are_one_tensor(WeightSharing sharing)
    {
        var c = Variants.Tiny with { Stacks = 3, Weights = sharing };
        var m = Variants.Model(c);
        using var engine = new StackedDecoder(m);
        var layer = engine.Weights.Layers[0];
        long d = c.DModel;
        if (sharing == WeightSharing.Separate)
        {
            Assert.Equal(new[] { 3L, 3 * d, d }, layer.Qkv.Weight.shape);                // (p, out, in)
            Assert.Equal(new[] { 2L, d, d }, layer.CrossQ!.Weight.shape);               // stacks 2..p only
            Assert.Equal(new[] { 2L, c.LayersPerStack * 2 * d, d }, engine.Weights.MemoryKv!.Weight.shape);
            // Slice s is stack s's own projection.
            Assert.True(layer.AttnOut.Weight[1].allclose(m.stacks[1].layers[0].self_attn.o_proj.weight!, 0, 0));
        }
        else
        {
            Assert.True(layer.Qkv.Shared);
            Assert.Equal(new[] { 3 * d, d }, layer.Qkv.Weight.shape);
            // An unfolded projection is the model's own tensor, not a copy.
            var o = m.stacks[0].layers[0].self_attn.o_proj.weight!;
            using (torch.no_grad()) o.add_(1.0);
            Assert.True(layer.AttnOut.Weight.allclose(o, 0, 0));
        }
    }

    [Fact]
    public void A_stacked_step_makes_fewer_libtorch_calls_than_the_sequential_one()
    {
        // Tensors created per step ≈ libtorch calls: the p stacks share every call.
        var c = Variants.Tiny with { Stacks = 2, LayersPerStack = 3 };
        var m = Variants.Model(c);
        using var engine = new StackedDecoder(m);
        long Calls(IDecodingEngine e)
        {
            using var scope = torch.NewDisposeScope();
            using var s = e.Start(1);
            var tokens = Variants.Tokens(c, batch: 1, length: 4);
            s.Prefill(tokens.narrow(1, 0, 3));
            s.Step(tokens.narrow(1, 3, 1));   // first step: views and per-position tables are made here
            var stats = DisposeScopeManager.Statistics.TensorStatistics;
            long before = stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount;
            s.Step(tokens.narrow(1, 3, 1));
            return stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount - before;
        }
        long sequential = Calls(new SequentialDecoder(m)), stacked = Calls(engine);
        Assert.True(stacked * 10 < sequential * 6, $"stacked {stacked} vs sequential {sequential} tensors per step");
    }

    [Fact]
    public void The_stacked_weights_follow_the_model_dtype()
    {
        var c = Variants.Tiny with { Stacks = 2 };
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(c).to(ScalarType.BFloat16);
        using var engine = new StackedDecoder(m);
        Assert.Equal(ScalarType.BFloat16, engine.Weights.Layers[0].Qkv.Weight.dtype);
        Assert.Equal(m.WeightDevice.type, engine.Weights.Layers[0].Down.Weight.device.type);
        var tokens = Variants.Tokens(c, batch: 2, length: 6);
        using var ng = torch.no_grad();
        var expected = m.forward(new ModelInput(tokens)).Logits.to(ScalarType.Float32);
        using var session = engine.Start(2);
        var got = new List<Tensor> { session.Prefill(tokens.narrow(1, 0, 2)) };
        for (int i = 2; i < 6; i++) got.Add(session.Step(tokens.narrow(1, i, 1)).unsqueeze(1));
        var all = torch.cat(got, 1);
        Assert.Equal(ScalarType.BFloat16, all.dtype);
        // bf16 has 8 bits of mantissa: agreement to a few percent of the logits' scale.
        double scale = expected.abs().max().item<float>();
        Variants.AssertClose(expected, all.to(ScalarType.Float32), 0.05 * scale, "bf16");
    }

    [Fact]
    public void The_stacked_engine_refuses_the_non_staggered_control()
    {
        var m = Variants.Model(Variants.Tiny with { Stacks = 2, CrossLag = 0 });
        var e = Assert.Throws<ArgumentException>(() => new StackedDecoder(m));
        Assert.Contains("CrossLag = 1", e.Message);
    }

    [Fact]
    public void Engine_kinds_round_trip_through_their_names()
    {
        foreach (var kind in EngineKinds.Kinds) Assert.Equal(kind, EngineKinds.Parse(kind.Name()));
        var e = Assert.Throws<ArgumentException>(() => EngineKinds.Parse("turbo"));
        Assert.Equal("unknown engine 'turbo' (sequential, parallel, stacked, recurrent, recurrent-selfprefill)", e.Message);
    }
}
