using StagNotebooks.Decoding;
using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Model;

/// <summary>Every engine reproduces the teacher-forced logits and the same greedy tokens, for every variant.</summary>
public class EngineEquivalenceTests
{
    public static TheoryData<string> Names => Variants.Names();

    static IEnumerable<IDecodingEngine> Engines(StagFormerModel m)
    {
        yield return new SequentialDecoder(m);
        if (m.Config.Stacks > 1) yield return new StaggeredParallelDecoder(m);
        yield return new StackedDecoder(m);
    }

    [Theory, MemberData(nameof(Names))]
    public void Step_by_step_decoding_reproduces_teacher_forced_logits(string variant)
    {
        var c = Variants.Get(variant);
        using var scope = torch.NewDisposeScope();
        using var ng = torch.no_grad();
        var m = Variants.Model(c);
        var tokens = Variants.Tokens(c);
        var expected = m.forward(new ModelInput(tokens)).Logits;                     // (B, T, V)
        foreach (var engine in Engines(m))
            foreach (int prompt in new[] { 1, 4 })
            {
                using var session = engine.Start(tokens.shape[0]);
                var got = new List<Tensor> { session.Prefill(tokens.narrow(1, 0, prompt)) };
                for (int i = prompt; i < Variants.T; i++) got.Add(session.Step(tokens.narrow(1, i, 1)).unsqueeze(1));
                Variants.AssertClose(expected, torch.cat(got, 1), 1e-4, $"{engine.Name}, prompt {prompt}");
                Assert.Equal(Variants.T, session.Position);
            }
    }

    [Theory, MemberData(nameof(Names))]
    public void Every_engine_generates_the_same_greedy_tokens(string variant)
    {
        var c = Variants.Get(variant);
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(c);
        var prompt = Variants.Tokens(c, length: 3);
        var reference = TextGenerator.Generate(new SequentialDecoder(m), prompt, maxNewTokens: 12).Tokens;
        Assert.All(reference, r => Assert.Equal(12, r.Length));
        foreach (var engine in Engines(m).Skip(1))
            Assert.Equal(reference, TextGenerator.Generate(engine, prompt, maxNewTokens: 12).Tokens);
    }

    [Fact]
    public void Generation_stops_at_EOS_and_sampling_is_reproducible()
    {
        var c = Variants.Tiny with { Stacks = 2 };
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(c);
        var prompt = Variants.Tokens(c, batch: 1, length: 3);
        var greedy = TextGenerator.Generate(new SequentialDecoder(m), prompt, 10).Tokens[0];
        long eos = greedy[2];
        var stopped = TextGenerator.Generate(new StaggeredParallelDecoder(m), prompt, 10, eosId: eos).Tokens[0];
        Assert.Equal(greedy.TakeWhile(t => t != eos).Append(eos), stopped);

        var sampling = new SamplingOptions(Temperature: 1.0, TopK: 5, Seed: 11);
        var a = TextGenerator.Generate(new SequentialDecoder(m), prompt, 10, sampling: sampling).Tokens[0];
        var b = TextGenerator.Generate(new StaggeredParallelDecoder(m), prompt, 10, sampling: sampling).Tokens[0];
        Assert.Equal(a, b);
    }

    [Fact]
    public void The_fused_memory_projector_equals_each_layers_own_projection()
    {
        var c = Variants.Tiny with { Stacks = 2, LayersPerStack = 3 };
        using var scope = torch.NewDisposeScope();
        using var ng = torch.no_grad();
        var m = Variants.Model(c);
        var memory = torch.randn(2, 3, c.DModel);
        using var projector = new MemoryProjector(m, m.StackFor(1));
        var (k, v) = projector.Project(memory, 5);
        for (int l = 0; l < c.LayersPerStack; l++)
        {
            var (kr, vr) = m.StackFor(1).cross_layers[l].cross_attn.ProjectMemory(memory, 5, m.rope);
            Variants.AssertClose(kr, k[l], 1e-5, $"K of layer {l}");
            Variants.AssertClose(vr, v[l], 1e-5, $"V of layer {l}");
        }
    }

    [Fact]
    public void Parallel_engines_refuse_the_non_staggered_control()
    {
        var m = Variants.Model(Variants.Tiny with { Stacks = 2, CrossLag = 0, Weights = WeightSharing.Shared });
        var e = Assert.Throws<ArgumentException>(() => new StaggeredParallelDecoder(m));
        Assert.Equal("the parallel engine needs staggered cross-attention (CrossLag = 1): with CrossLag = 0 stack s waits for stack s−1 at the same position", e.Message);
        Assert.Throws<ArgumentException>(() => new StackedDecoder(m));
    }

    [Fact]
    public void The_thread_engine_sets_the_callers_thread_count_once_and_restores_it()
    {
        var c = Variants.Tiny with { Stacks = 2 };
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(c);
        int before = torch.get_num_threads();
        int perStack = before + 1;   // differs from the caller's, so the session must change it
        var prompt = Variants.Tokens(c, batch: 1, length: 3);
        var reference = TextGenerator.Generate(new SequentialDecoder(m), prompt, 6).Tokens;
        using (var session = new StaggeredParallelDecoder(m, threadsPerStack: perStack).Start(1))
        {
            session.Prefill(prompt);
            session.Step(prompt.narrow(1, 2, 1));
            Assert.Equal(perStack, torch.get_num_threads());   // kept between steps: no set_num_threads per step
            session.Step(prompt.narrow(1, 2, 1));
            Assert.Equal(perStack, torch.get_num_threads());
        }
        Assert.Equal(before, torch.get_num_threads());        // restored with the session
        using (var session = new StaggeredParallelDecoder(m, threadsPerStack: perStack, callerThreads: CallerThreadSetting.PerStep).Start(1))
        {
            session.Prefill(prompt);
            session.Step(prompt.narrow(1, 2, 1));
            Assert.Equal(before, torch.get_num_threads());    // the old behaviour: restored after every step
        }
        Assert.Equal(reference, TextGenerator.Generate(new StaggeredParallelDecoder(m, threadsPerStack: perStack), prompt, 6).Tokens);
        Assert.Equal(before, torch.get_num_threads());
    }
}
