using StagNotebooks.Model;
using StagNotebooks.Probing;
using StagNotebooks.Reporting;
using StagNotebooks.Tests.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Probing;

/// <summary>Notebook 09's intervention experiments (Probing/CrossAblation, MemoryLagPatching, RecurrentRepair) and their tables.</summary>
public class InterventionExperimentTests
{
    static readonly StagFormerConfig Sep = Variants.Tiny with { Stacks = 2, Weights = WeightSharing.Separate };
    static readonly StagFormerConfig Shared = Variants.Tiny with { Stacks = 2, Weights = WeightSharing.Shared };

    [Fact]
    public void Cross_ablation_arms_are_the_losses_of_their_hooked_forwards_and_the_shares_follow()
    {
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(Sep);
        var (inputs, targets) = (Variants.Tokens(Sep, seed: 3), Variants.Tokens(Sep, seed: 5));
        var arms = CrossAblation.Measure(m, inputs, targets);
        Assert.Equal(new[] { CrossAblation.Full, CrossAblation.StackAlone, CrossAblation.MeanAblated,
            "stacks.1.layers.0.cross_attn.hook_out zeroed", "stacks.1.layers.1.cross_attn.hook_out zeroed" }, arms.Select(a => a.Forward));
        Assert.Equal(CrossAblation.Loss(m, inputs, targets, Interventions.ZeroAllCrossOutputs(Sep)), arms[1].Loss);
        var logits = m.forward(new ModelInput(inputs)).Logits;
        Assert.Equal(nn.functional.cross_entropy(logits.reshape(-1, Sep.VocabSize), targets.reshape(-1)).item<float>(), arms[0].Loss, 5);
        if (arms[1].Loss > arms[0].Loss) Assert.Equal(1.0, CrossAblation.ShareLost(arms, arms[1]), 12);
        var table = ProbingTables.Ablation(new[] { arms, arms });
        Assert.Equal(arms[2].Loss, (double)table["test loss (nats), mean"][2]!, 12);
        Assert.Equal(0.0, (double)table["test loss (nats), sd"][2]!, 12);                 // two identical seeds
        var e = Assert.Throws<ArgumentException>(() => CrossAblation.Measure(Variants.Model(Sep with { Stacks = 1 }), inputs, targets));
        Assert.Equal("a model with 1 stack(s) has no cross-attention to ablate", e.Message);
    }

    /// <summary>The stagger: memory at the query's own position (lag 0) is invisible, so patching it does nothing; the embedding there does everything.</summary>
    [Fact]
    public void Memory_lag_patching_finds_lag_0_of_the_memory_inert_and_the_queries_own_token_decisive()
    {
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(Sep);
        var (clean, corrupted) = (Variants.Tokens(Sep, seed: 3), Variants.Tokens(Sep, seed: 4));
        var sweep = MemoryLagPatching.Run(m, clean, Variants.Tokens(Sep, seed: 5), corrupted, maxLag: 4);
        Assert.Equal(new[] { 0, 1, 2, 3, 4 }, MemoryLagPatching.Lags(sweep));
        Assert.Equal(0.0, sweep.Restored[0][0], 12);                                    // stacks.1.hook_memory at lag 0
        Assert.True(Math.Abs(sweep.Restored[0][1]) > 1e-4);                             // lag 1 reaches the query
        Assert.True(Math.Abs(sweep.Restored[1][0]) > 1e-4);                             // hook_embed at lag 0: the query's own token
        var table = ProbingTables.LagShares(new[] { sweep });
        Assert.Equal(10L, table.Rows.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => MemoryLagPatching.Run(m, clean, clean, corrupted, maxLag: Variants.T));
    }

    /// <summary>Restoring the pass-1 memory at every recurrent step is the two-pass model; at one step, only later positions change.</summary>
    [Fact]
    public void Restoring_the_true_memory_at_every_step_gives_the_two_pass_losses()
    {
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(Shared);
        var tokens = Variants.Tokens(Shared);
        const int prompt = 3;
        var twoPass = RecurrentRepair.TwoPassLosses(m, tokens, prompt);
        var recurrent = RecurrentRepair.RecurrentLosses(m, tokens, prompt);
        Assert.True(recurrent.Zip(twoPass).Max(p => Math.Abs(p.First - p.Second)) > 1e-3);   // recurrent decoding drifts
        using var memory = new ActivationCache(n => n == HookNames.Memory(1));
        var all = Enumerable.Range(prompt, Variants.T - prompt).ToArray();
        var restored = RecurrentRepair.RecurrentLosses(m, tokens, prompt, RecurrentRepair.RestoreMemory(m, tokens, all, memory));
        for (int i = 0; i < twoPass.Length; i++) Assert.True(Math.Abs(twoPass[i] - restored[i]) < 1e-4, $"position {prompt + i}: {restored[i]} vs {twoPass[i]}");
        const int j = 5;
        var one = RecurrentRepair.RecurrentLosses(m, tokens, prompt, RecurrentRepair.RestoreMemory(m, tokens, new[] { j }, memory));
        for (int i = 0; i <= j - prompt; i++) Assert.Equal(recurrent[i], one[i]);       // the memory at j is read only after j
        var point = RecurrentRepair.Measure(m, tokens, prompt, new[] { j }).Single();
        Assert.Equal(Enumerable.Range(j - prompt + 1, twoPass.Length - (j - prompt + 1)).Average(i => one[i] - twoPass[i]), point.GapAfter, 9);
        var e = Assert.Throws<ArgumentException>(() => RecurrentRepair.Measure(m, tokens, prompt, new[] { 1 }));
        Assert.StartsWith("restored position 1 is outside [3, 7]", e.Message);
    }
}
