using System.Collections.Concurrent;
using StagNotebooks.Decoding;
using StagNotebooks.Model;
using StagNotebooks.Probing;
using StagNotebooks.Tests.Model;
using TorchSharp;
using static TorchSharp.torch;
using StagNotebooks.Reporting;

namespace StagNotebooks.Tests.Probing;

/// <summary>Named hook points (Model/Hooks/ModelHooks.cs): they read and replace in the forward and in every engine's step.</summary>
public class HookTests
{
    static readonly StagFormerConfig Sep = Variants.Tiny with { Stacks = 2, Weights = WeightSharing.Separate };
    static readonly StagFormerConfig Shared = Variants.Tiny with { Stacks = 2, Weights = WeightSharing.Shared };

    /// <summary>Bit-identical: same shape, every element equal.</summary>
    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    static IEnumerable<EngineKind> KindsFor(StagFormerConfig c) =>
        EngineKinds.Kinds.Where(k => c.Weights == WeightSharing.Shared || !k.IsRecurrent());

    /// <summary>Logits (B, T, V) of a prompt of <paramref name="prompt"/> tokens (0: none), then one step per remaining token, with <paramref name="hooks"/> attached throughout.</summary>
    static Tensor Decode(StagFormerModel m, EngineKind kind, Tensor tokens, int prompt, HookSet? hooks = null)
    {
        using var engine = EngineKinds.Create(m, kind);
        using var session = engine.Start(tokens.shape[0]);
        using var attached = ModelHooks.Attach(hooks);
        var got = prompt == 0 ? new List<Tensor>() : new List<Tensor> { session.Prefill(tokens.narrow(1, 0, prompt)) };
        for (int i = prompt; i < tokens.shape[1]; i++) got.Add(session.Step(tokens.narrow(1, i, 1)).unsqueeze(1));
        return torch.cat(got, 1);
    }

    /// <summary>A hook that replaces every value by a copy of itself and records which positions of which points it saw.</summary>
    static HookSet CopyingHooks(ConcurrentDictionary<(string Name, int Pos), int> seen) => new HookSet().Add(_ => true, (v, p) =>
    {
        for (int t = 0; t < v.shape[1]; t++) seen.AddOrUpdate((p.Name, p.Start + t), 1, (_, n) => n + 1);
        return v.clone();
    });

    public static TheoryData<string, EngineKind> EngineCases()
    {
        var d = new TheoryData<string, EngineKind>();
        foreach (var (name, c) in new[] { ("separate", Sep), ("shared", Shared), ("p3-window", Config("p3-window")), ("zero-empty", Config("zero-empty")) })
            foreach (var k in KindsFor(c)) d.Add(name, k);
        return d;
    }

    static StagFormerConfig Config(string name) => name switch
    {
        "separate" => Sep, "shared" => Shared, "zero-empty" => Sep with { EmptyCross = EmptyCrossAttention.Zero },
        _ => Variants.Tiny with { Stacks = 3, CrossWindow = 3 },
    };

    [Theory, MemberData(nameof(EngineCases))]
    public void A_replacing_identity_hook_on_every_point_leaves_the_logits_bit_identical_and_fires_at_every_position(string config, EngineKind kind)
    {
        var c = Config(config);
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(c);
        var tokens = Variants.Tokens(c);
        int prompt = config == "zero-empty" ? 0 : 4;   // zero-empty: position 0's step has no memory and no null slot
        var plain = Decode(m, kind, tokens, prompt);
        var seen = new ConcurrentDictionary<(string, int), int>();
        var hooked = Decode(m, kind, tokens, prompt, CopyingHooks(seen));
        Assert.True(Same(plain, hooked), $"{kind}: max |Δ| = {(plain - hooked).abs().max().item<float>()}");
        Assert.Null(ModelHooks.Current);
        // Recurrent steps run pass 1 only: pass 0's points fire in the two-pass prefill alone.
        var expected = HookNames.All(c).Where(n => !kind.IsRecurrent() || !n.StartsWith("stacks.0.", StringComparison.Ordinal));
        foreach (var name in expected)
            for (int pos = 0; pos < Variants.T; pos++)
                Assert.True(seen.ContainsKey((name, pos)), $"{kind}: {name} did not fire at position {pos}");
    }

    /// <summary>Separate 2×h and a baseline h-layer model with stack 2's weights (as QualityGapOptionTests builds it).</summary>
    static (StagFormerModel Stag, StagFormerModel Stack2Alone) Stack2Alone()
    {
        var stag = Variants.Model(Sep, seed: 11);
        var alone = new StagFormerModel(Sep with { Stacks = 1 }, seed: 99);
        var source = stag.state_dict();
        using (torch.no_grad())
            foreach (var (name, p) in alone.named_parameters())
                p.copy_(source[name.StartsWith("stacks.0.", StringComparison.Ordinal) ? "stacks.1." + name["stacks.0.".Length..] : name]);
        alone.eval();
        return (stag, alone);
    }

    [Fact]
    public void Zero_ablating_every_cross_output_of_separate_2xh_gives_exactly_stack_2_alone()
    {
        using var scope = torch.NewDisposeScope();
        var (stag, alone) = Stack2Alone();
        var tokens = Variants.Tokens(Sep, batch: 3, length: 12);
        var expected = Interventions.RunWithHooks(alone, tokens, new HookSet());
        var ablated = Interventions.RunWithHooks(stag, tokens, Interventions.ZeroAllCrossOutputs(Sep));
        Assert.Equal(0.0, (ablated - expected).abs().max().item<float>());
        Assert.True((Interventions.RunWithHooks(stag, tokens, new HookSet()) - expected).abs().max().item<float>() > 1e-3);   // not by accident
        foreach (var kind in KindsFor(Sep))
            Variants.AssertClose(expected, Decode(stag, kind, tokens, prompt: 3, Interventions.ZeroAllCrossOutputs(Sep)), 1e-4, kind.Name());
    }

    [Fact]
    public void Ablating_every_head_of_a_cross_layer_is_zeroing_its_output_and_one_head_is_not()
    {
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(Sep);
        var tokens = Variants.Tokens(Sep);
        var zeroOut = Interventions.RunWithHooks(m, tokens, new HookSet().Add(HookNames.CrossOut(1, 0), Interventions.Zero()));
        var allHeads = Interventions.RunWithHooks(m, tokens, new HookSet().Add(HookNames.CrossZ(1, 0), Interventions.AblateHeads(0, 1)));
        var oneHead = Interventions.RunWithHooks(m, tokens, new HookSet().Add(HookNames.CrossZ(1, 0), Interventions.AblateHeads(1)));
        Assert.True(Same(zeroOut, allHeads));                                  // o_proj has no bias: o_proj(0) = 0
        Assert.True((oneHead - zeroOut).abs().max().item<float>() > 1e-3);
        Assert.True((oneHead - Interventions.RunWithHooks(m, tokens, new HookSet())).abs().max().item<float>() > 1e-3);
        var stacked = Decode(m, EngineKind.Stacked, tokens, prompt: 2, new HookSet().Add(HookNames.CrossZ(1, 0), Interventions.AblateHeads(1)));
        Variants.AssertClose(oneHead, stacked, 1e-4, "head ablation in the stacked engine's step");
    }

    [Fact]
    public void Mean_ablation_puts_the_mean_over_batch_and_positions_at_every_position()
    {
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(Sep);
        var tokens = Variants.Tokens(Sep, batch: 3);
        string point = HookNames.CrossOut(1, 1);
        var mean = Interventions.MeanOf(m, tokens, point);
        using var cache = new ActivationCache(n => n == point);
        cache.Run(m, tokens);
        Variants.AssertClose(cache[point].mean(new long[] { 0, 1 }), mean, 1e-6, "mean");
        using var after = new ActivationCache(n => n == point);
        var hooks = new HookSet().Add(point, Interventions.Mean(mean));
        hooks.Add(after.Hooks.Wants, (v, p) => { after.Hooks.TryApply(p.Name, v, p.Start, out _); return null; });   // runs after the ablation
        Interventions.RunWithHooks(m, tokens, hooks);
        Assert.True(Same(after[point], mean.expand(3, Variants.T, -1)));
    }

    [Fact]
    public void Patching_from_the_same_input_is_the_identity()
    {
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(Sep);
        var tokens = Variants.Tokens(Sep);
        using var cache = new ActivationCache();
        var clean = cache.Run(m, tokens);
        var all = Enumerable.Range(0, Variants.T).ToArray();
        var hooks = new HookSet();
        foreach (var name in HookNames.All(Sep)) hooks.Add(name, Interventions.Patch(cache[name], all));
        Assert.True(Same(clean, Interventions.RunWithHooks(m, tokens, hooks)));
    }

    /// <summary>
    /// Patch one point at position j with a corrupted run's value. Positions before j never change (causal masks). Stack
    /// 1's output at j (its last residual, or the memory stack 2 reads) reaches stack 2 only at positions ≥ j+1 (it
    /// cross-attends to memory ≤ i−1), and the logits are stack 2's (LastStack): position j is unchanged as well. Stack
    /// 2's own residual at j and the embedding at j (which stack 2 reads) change position j.
    /// </summary>
    [Theory]
    [InlineData("stacks.0.layers.1.hook_resid_post", 1)]
    [InlineData("stacks.0.layers.0.hook_resid_post", 1)]
    [InlineData("stacks.1.hook_memory", 1)]
    [InlineData("stacks.1.layers.0.hook_resid_post", 0)]
    [InlineData("hook_embed", 0)]
    public void Patching_at_position_j_is_confined_causally_and_by_the_stagger(string point, int firstChanged)
    {
        const int j = 4;
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(Sep);
        var clean = Variants.Tokens(Sep, seed: 3);
        var corrupted = Variants.Tokens(Sep, seed: 4);
        using var cache = new ActivationCache(n => n == point);
        cache.Run(m, corrupted);
        var plain = Interventions.RunWithHooks(m, clean, new HookSet());
        var patched = Interventions.RunWithHooks(m, clean, new HookSet().Add(point, Interventions.Patch(cache[point], new[] { j })));
        var change = (patched - plain).abs().amax(new long[] { 0, 2 });         // (T): the largest change at each position
        for (int t = 0; t < j + firstChanged; t++) Assert.True(change[t].item<float>() == 0, $"{point}: position {t} changed by {change[t].item<float>()}");
        Assert.True(change[j + firstChanged].item<float>() > 1e-4, $"{point}: position {j + firstChanged} did not change");
    }

    [Fact]
    public void Hooks_fire_and_replace_on_the_parallel_engines_stack_threads()
    {
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(Sep);
        var tokens = Variants.Tokens(Sep);
        var threads = new ConcurrentBag<int>();
        var hooks = new HookSet().Add(n => n.StartsWith("stacks.1.layers.", StringComparison.Ordinal) && n.EndsWith("hook_resid_post", StringComparison.Ordinal),
            (_, p) => { if (p.Start >= 4) threads.Add(Environment.CurrentManagedThreadId); return null; });
        Decode(m, EngineKind.Parallel, tokens, prompt: 4, hooks);
        Assert.Equal((Variants.T - 4) * Sep.LayersPerStack, threads.Count);     // every step, every layer of stack 2
        Assert.DoesNotContain(Environment.CurrentManagedThreadId, threads);     // stack 2 runs on a worker thread
        var ablate = new HookSet().Add(HookNames.ResidPost(1, 0), Interventions.Zero());
        var reference = Decode(m, EngineKind.Sequential, tokens, prompt: 4, ablate);
        Variants.AssertClose(reference, Decode(m, EngineKind.Parallel, tokens, prompt: 4, ablate), 1e-4, "replacement on a worker thread");
        Assert.True((reference - Decode(m, EngineKind.Parallel, tokens, prompt: 4)).abs().max().item<float>() > 1e-3);
    }

    /// <summary>Every point of a step holds what the forward holds at that position: the stacked engine shows pass s its row s.</summary>
    [Theory]
    [InlineData(EngineKind.Stacked)]
    [InlineData(EngineKind.Parallel)]
    [InlineData(EngineKind.Sequential)]
    public void Each_engines_steps_record_the_forwards_values_at_every_point(EngineKind kind)
    {
        using var scope = torch.NewDisposeScope();
        var c = Variants.Tiny with { Stacks = 3 };
        var m = Variants.Model(c);
        var tokens = Variants.Tokens(c);
        using var forward = new ActivationCache();
        forward.Run(m, tokens);
        using var steps = new ActivationCache();
        Decode(m, kind, tokens, prompt: 1, steps.Hooks);
        Assert.Equal(HookNames.All(c).OrderBy(n => n), forward.Names.OrderBy(n => n));
        Assert.Equal(forward.Names.OrderBy(n => n), steps.Names.OrderBy(n => n));
        foreach (var name in forward.Names) Variants.AssertClose(forward[name], steps[name], 1e-4, $"{kind.Name()}: {name}");
    }

    [Fact]
    public void A_replacement_of_the_wrong_shape_is_refused_naming_the_point()
    {
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(Sep);
        var hooks = new HookSet().Add(HookNames.ResidPost(0, 0), (v, _) => v.narrow(1, 0, 1));
        var e = Assert.Throws<InvalidOperationException>(() => Interventions.RunWithHooks(m, Variants.Tokens(Sep), hooks));
        Assert.Equal("hook at stacks.0.layers.0.hook_resid_post returned shape (2, 1, 16) for a value of shape (2, 10, 16)", e.Message);
    }

    [Fact]
    public void A_hook_that_throws_leaves_no_hook_attached()
    {
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(Sep);
        var tokens = Variants.Tokens(Sep);
        var throwing = new HookSet().Add(HookNames.CrossOut(1, 1), (_, _) => throw new InvalidOperationException("boom"));
        Assert.Throws<InvalidOperationException>(() => ModelHooks.RunWithHooks(throwing, () => m.forward(new ModelInput(tokens))));
        Assert.Null(ModelHooks.Current);
        Assert.Throws<InvalidOperationException>(() => Interventions.RunWithHooks(m, tokens, throwing));
        Assert.Null(ModelHooks.Current);
        foreach (var kind in KindsFor(Sep))
        {
            Assert.ThrowsAny<Exception>(() => Decode(m, kind, tokens, prompt: 1, throwing));
            Assert.Null(ModelHooks.Current);
        }
        var plain = Interventions.RunWithHooks(m, tokens, new HookSet());
        Assert.True(Same(plain, m.forward(new ModelInput(tokens)).Logits));      // the next call runs unhooked
    }

    [Fact]
    public void The_activation_cache_is_bounded_and_appends_decode_steps()
    {
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(Sep);
        var tokens = Variants.Tokens(Sep);
        long oneResidual = 2L * Variants.T * Sep.DModel * sizeof(float);
        using var small = new ActivationCache(n => n.Contains("hook_resid_post"), maxBytes: 3 * oneResidual);
        var e = Assert.Throws<InvalidOperationException>(() => small.Run(m, tokens));
        Assert.Contains("stacks.1.layers.1.hook_resid_post", e.Message);        // the fourth point recorded passes the bound
        Assert.Equal(3 * oneResidual, small.Bytes);
        Assert.Null(ModelHooks.Current);
        using var steps = new ActivationCache(n => n == HookNames.Logits);
        var logits = Decode(m, EngineKind.Sequential, tokens, prompt: 3, steps.Hooks);
        Assert.True(Same(logits, steps[HookNames.Logits]));                      // prefill chunk + 7 steps, along T
    }

    [Fact]
    public void A_patching_sweep_of_the_final_residual_restores_exactly_its_own_position()
    {
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(Sep);
        var clean = Variants.Tokens(Sep, seed: 3);
        var corrupted = Variants.Tokens(Sep, seed: 4);
        int last = Variants.T - 1;
        var points = new[] { HookNames.ResidPost(1, 1), HookNames.ResidPost(0, 1) };
        var sweep = PatchingSweep.Run(m, clean, corrupted, points, Enumerable.Range(0, Variants.T).ToArray(), PatchingSweep.LogitDifference(last, 5, 7));
        var restored = sweep.Restored;
        Assert.Equal(1.0, restored[0][last], 5);                                 // the last layer of stack 2 at T−1 is the logits' only input
        Assert.All(restored[0].Take(last), r => Assert.Equal(0.0, r, 9));
        Assert.Equal(0.0, restored[1][last], 9);                                 // stack 1 at T−1 reaches stack 2 only at T
        var frame = sweep.ToDataFrame();
        Assert.Equal(2L * Variants.T, frame.Rows.Count);
        Assert.Equal(new[] { "hook point", "position", "metric", "restored" }, frame.Columns.Select(col => col.Name));
        var figure = StagNotebooks.Reporting.ProbingCharts.Heatmap(sweep, "patching");
        Assert.Equal("patching", figure.Title);
    }
}
