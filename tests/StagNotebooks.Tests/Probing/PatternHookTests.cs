using StagNotebooks.Decoding;
using StagNotebooks.Model;
using StagNotebooks.Probing;
using StagNotebooks.Tests.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Probing;

/// <summary>The attention-pattern hook points (cross_attn.hook_pattern, attn.hook_pattern): read, replace, and where they fire.</summary>
public class PatternHookTests
{
    static readonly StagFormerConfig Sep = Variants.Tiny with { Stacks = 2, Weights = WeightSharing.Separate };
    static readonly string Cross = HookNames.CrossPattern(1, 0), Self = HookNames.AttnPattern(1, 1);

    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    /// <summary>A pattern (B, T, H, 1+K) with all weight on column 0, the null slot.</summary>
    static ActivationHook AllOnNull => static (v, _) => torch.zeros_like(v).index_fill_(3, torch.tensor(new long[] { 0 }), 1.0);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_hook_that_leaves_either_pattern_leaves_the_logits_bit_identical(bool returnsTheValue)
    {
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(Sep);
        var tokens = Variants.Tokens(Sep);
        var plain = Interventions.RunWithHooks(m, tokens, new HookSet());
        int fired = 0;
        ActivationHook leave = (v, _) => { fired++; return returnsTheValue ? v : null; };
        var hooks = new HookSet();
        foreach (var name in HookNames.Patterns(Sep)) hooks.Add(name, leave);
        Assert.True(Same(plain, Interventions.RunWithHooks(m, tokens, hooks)));
        Assert.Equal(HookNames.Patterns(Sep).Count(), fired);                  // 2 self + 1·2 cross per stack-2 layer: 6
    }

    /// <summary>
    /// Rows sum to 1; the cross pattern (B, T, H, 1+T) is the observer's per-head cross map (null column first, then
    /// memory positions), zero at memory keys k ≥ i (the stagger); the self pattern (B, T, H, T) is zero above the diagonal.
    /// </summary>
    [Fact]
    public void The_patterns_are_the_attention_weights_the_observer_records()
    {
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(Sep);
        var tokens = Variants.Tokens(Sep, batch: 1);
        using var cache = new ActivationCache(_ => false).WithPatterns(new[] { Cross, Self });   // patterns are reached by exact name only
        using (var capture = ActivationCapture.Start()) { cache.Run(m, tokens); CompareWithCrossMap(capture, cache[Cross]); }
        var cross = cache[Cross];                                                 // (1, T, H, 1+T), recorded once by name
        int t = Variants.T;
        Assert.Equal(new long[] { 1, t, Sep.Heads, 1 + t }, cross.shape);
        Variants.AssertClose(torch.ones(1, t, Sep.Heads), cross.sum(3), 1e-5, "cross rows");
        var memory = cross.narrow(3, 1, t);
        var invisible = torch.ones(t, t, dtype: ScalarType.Bool).tril(-1).logical_not();   // k ≥ i
        Assert.Equal(0f, memory.masked_select(invisible.view(1, t, 1, t).expand_as(memory)).abs().max().item<float>());
        var self = cache[Self];                                                   // (1, T, H, T)
        Assert.Equal(new long[] { 1, t, Sep.Heads, t }, self.shape);
        Variants.AssertClose(torch.ones(1, t, Sep.Heads), self.sum(3), 1e-5, "self rows");
        var future = torch.ones(t, t, dtype: ScalarType.Bool).triu(1);
        Assert.Equal(0f, self.masked_select(future.view(1, t, 1, t).expand_as(self)).abs().max().item<float>());
    }

    static void CompareWithCrossMap(ActivationCapture capture, Tensor cross)
    {
        for (int h = 0; h < Sep.Heads; h++)
        {
            var map = AttentionAnalysis.CrossMap(capture, 1, 0, h);
            var expected = torch.tensor(map.SelectMany(r => r).ToArray(), new long[] { map.Length, map[0].Length }).to(ScalarType.Float32);
            Variants.AssertClose(expected, cross[0].select(1, h), 1e-5, $"head {h}");
        }
    }

    /// <summary>
    /// All weight on the null slot makes every head's output its null value: y = onehot₀·[v_null; V] = v_null, exactly
    /// (1·v + 0·v' adds nothing). So the logits equal those of replacing hook_z (B, T, H, D) by the null value at every
    /// position, to the bit; and with a zero null value (its initialisation) those of zero-ablating the layer's cross output.
    /// </summary>
    [Fact]
    public void All_weight_on_the_null_slot_is_the_null_value_as_every_heads_output()
    {
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(Sep);
        var tokens = Variants.Tokens(Sep);
        var attn = m.stacks[1].cross_layers[0].cross_attn;
        var nullValue = attn.null_value!.detach().squeeze(0).squeeze(1);          // (H, D)
        Assert.True(nullValue.abs().max().item<float>() > 0.1);                  // a real, non-zero null value
        var onNull = Interventions.RunWithHooks(m, tokens, new HookSet().Add(Cross, AllOnNull));
        var asZ = Interventions.RunWithHooks(m, tokens, new HookSet().Add(HookNames.CrossZ(1, 0), (v, _) => nullValue.expand_as(v)));
        Assert.True(Same(asZ, onNull));
        Assert.True((onNull - Interventions.RunWithHooks(m, tokens, new HookSet())).abs().max().item<float>() > 1e-3);   // not by accident
        using (torch.no_grad()) attn.null_value!.zero_();
        var zeroed = Interventions.RunWithHooks(m, tokens, new HookSet().Add(HookNames.CrossOut(1, 0), Interventions.Zero()));
        Assert.True(Same(zeroed, Interventions.RunWithHooks(m, tokens, new HookSet().Add(Cross, AllOnNull))));
    }

    /// <summary>Without a null slot column 0 is the zero value of an empty row: weight 1 at position 0 (no memory yet), 0 later; all weight on it is zero-ablating the cross output.</summary>
    [Fact]
    public void Without_a_null_slot_column_0_is_the_empty_rows_zero_value()
    {
        using var scope = torch.NewDisposeScope();
        var c = Sep with { EmptyCross = EmptyCrossAttention.Zero };
        var m = Variants.Model(c);
        var tokens = Variants.Tokens(c);
        using var cache = new ActivationCache(_ => false).WithPatterns(new[] { Cross });
        cache.Run(m, tokens);
        var column0 = cache[Cross].select(3, 0);                                  // (B, T, H)
        Assert.True(Same(column0.select(1, 0), torch.ones(2, c.Heads)));
        Assert.True(Same(column0.narrow(1, 1, Variants.T - 1), torch.zeros(2, Variants.T - 1, c.Heads)));
        var zeroed = Interventions.RunWithHooks(m, tokens, new HookSet().Add(HookNames.CrossOut(1, 0), Interventions.Zero()));
        Assert.True(Same(zeroed, Interventions.RunWithHooks(m, tokens, new HookSet().Add(Cross, AllOnNull))));
    }

    /// <summary>A replacement by a copy of the read pattern goes through p'·V instead of SDPA: the same logits to float rounding.</summary>
    [Fact]
    public void Replacing_a_pattern_by_its_own_copy_recomputes_the_same_logits()
    {
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(Sep);
        var tokens = Variants.Tokens(Sep);
        var plain = Interventions.RunWithHooks(m, tokens, new HookSet());
        var hooks = new HookSet();
        foreach (var name in HookNames.Patterns(Sep)) hooks.Add(name, (v, _) => v.clone());
        var copied = Interventions.RunWithHooks(m, tokens, hooks);
        Variants.AssertClose(plain, copied, 1e-4, "p'·V");
        var uniform = new HookSet().Add(Self, (v, _) => v.gt(0).to(v.dtype) / v.gt(0).sum(3, keepdim: true).to(v.dtype));
        Assert.True((plain - Interventions.RunWithHooks(m, tokens, uniform)).abs().max().item<float>() > 1e-3);   // a real replacement changes them
    }

    [Fact]
    public void Filters_never_reach_a_pattern()
    {
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(Sep);
        var tokens = Variants.Tokens(Sep);
        var seen = new List<string>();
        Interventions.RunWithHooks(m, tokens, new HookSet().Add(_ => true, (_, p) => { seen.Add(p.Name); return null; }));
        Assert.Equal(HookNames.All(Sep), seen);
        Assert.DoesNotContain(seen, HookNames.IsPattern);
    }

    /// <summary>
    /// A decode step of every engine shows the patterns its query makes over the keys its cache holds: the self pattern
    /// as the sequential engine's step (the forward on one position) shows it, the cross pattern over the null slot and
    /// the visible memory only (the sequential engine also shows its cache's invisible keys, at 0); leaving them leaves
    /// the logits bit-identical, and all cross weight on the null slot gives the sequential engine's logits.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void Every_engines_step_shows_and_replaces_the_patterns_its_query_makes(int window)
    {
        using var scope = torch.NewDisposeScope();
        var config = window == 0 ? Sep : Sep with { CrossWindow = window };
        var m = Variants.Model(config);
        var tokens = Variants.Tokens(config);
        (Tensor Cross, Tensor Self, Tensor Plain, Tensor Left, Tensor Replaced) Step(EngineKind kind)
        {
            Tensor Run(HookSet? hooks)
            {
                using var engine = EngineKinds.Create(m, kind);
                using var session = engine.Start(2);
                session.Prefill(tokens.narrow(1, 0, 3));
                using var attached = ModelHooks.Attach(hooks);
                return session.Step(tokens.narrow(1, 3, 1)).detach().clone();
            }
            Tensor? cross = null, self = null;
            var left = Run(new HookSet().Add(Cross, (v, _) => { cross = v.detach().clone().DetachFromDisposeScope(); return null; })
                                        .Add(Self, (v, _) => { self = v.detach().clone().DetachFromDisposeScope(); return v; }));
            return (cross!, self!, Run(null), left, Run(new HookSet().Add(Cross, AllOnNull)));
        }
        var reference = Step(EngineKind.Sequential);
        Assert.Equal(new long[] { 2, 1, config.Heads, 4 }, reference.Self.shape);
        foreach (var kind in new[] { EngineKind.Parallel, EngineKind.Stacked })
        {
            var got = Step(kind);
            // The step's cache holds exactly the visible memory: the null slot, then positions 0–2 (window 2: the last two).
            int visible = window == 0 ? 3 : window;
            Assert.Equal(new long[] { 2, 1, config.Heads, 1 + visible }, got.Cross.shape);
            Variants.AssertClose(torch.ones(2, 1, config.Heads), got.Cross.sum(3), 1e-5, $"{kind}: cross rows sum to 1");
            // The sequential engine shows every key of its cache, the invisible ones (the current position, keys out of the window) at 0.
            Variants.AssertClose(reference.Cross.sort(3).Values.narrow(3, reference.Cross.shape[3] - 1 - visible, 1 + visible), got.Cross.sort(3).Values, 1e-5, $"{kind}: cross weights");
            if (window == 0) Variants.AssertClose(reference.Cross.narrow(3, 0, 1 + visible), got.Cross, 1e-5, $"{kind}: cross pattern, in order");
            Variants.AssertClose(reference.Self, got.Self, 1e-5, $"{kind}: self pattern");
            Assert.True(Same(got.Plain, got.Left), $"{kind}: a hook that leaves the patterns changed the logits");
            Variants.AssertClose(reference.Replaced, got.Replaced, 1e-4, $"{kind}: all cross weight on the null slot");
            Assert.True((got.Plain - got.Replaced).abs().max().item<float>() > 1e-4, $"{kind}: the replacement changed nothing");
        }
    }
}
