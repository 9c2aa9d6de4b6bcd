using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Model;

/// <summary>STAGFORMER.md §6: causality and staggering, for every variant.</summary>
public class InvariantTests
{
    public static TheoryData<string> Names => Variants.Names();

    [Theory, MemberData(nameof(Names))]
    public void Changing_a_later_token_never_changes_earlier_logits(string variant)
    {
        var c = Variants.Get(variant);
        using var scope = torch.NewDisposeScope();
        using var ng = torch.no_grad();
        var m = Variants.Model(c);
        var tokens = Variants.Tokens(c);
        var logits = m.forward(new ModelInput(tokens)).Logits;
        Assert.False(logits.isnan().any().item<bool>(), "NaN in logits");
        for (int j = 1; j < Variants.T; j += 3)
        {
            var changed = tokens.clone();
            changed[.., j] = (changed[.., j] + 1) % c.VocabSize;
            var other = m.forward(new ModelInput(changed)).Logits;
            Variants.AssertClose(logits.narrow(1, 0, j), other.narrow(1, 0, j), 1e-5, $"positions < {j}");
            Assert.True((logits.narrow(1, j, 1) - other.narrow(1, j, 1)).abs().max().item<float>() > 1e-4, $"position {j} ignores its own token");
        }
    }

    /// <summary>Runs the passes by hand so the memory handed to pass s can be perturbed (only the memory, not the combination).</summary>
    static Tensor LogitsWithPerturbedMemory(StagFormerModel m, Tensor tokens, int perturbedPass, int fromPosition)
    {
        var e = m.Embed(tokens, 0);
        var outs = new List<Tensor>();
        Tensor? below = null;
        for (int s = 0; s < m.Config.Stacks; s++)
        {
            var memory = below;
            if (s == perturbedPass && memory is not null)
            {
                memory = memory.clone();
                long n = memory.shape[1] - fromPosition;
                memory[.., fromPosition..] = memory[.., fromPosition..] + torch.randn(memory.shape[0], n, memory.shape[2]) * 3;
            }
            var h = m.StackFor(s).forward(new StackInput(e, 0, m.rope, Memory: s > 0 ? new StackMemory(memory) : null));
            outs.Add(h);
            below = h;
        }
        return m.Head(m.Combine(outs));
    }

    [Theory, MemberData(nameof(Names))]
    public void Changing_the_lower_stack_at_or_after_i_never_changes_logits_at_i(string variant)
    {
        var c = Variants.Get(variant);
        if (c.Stacks == 1) return;   // nothing is staggered in a baseline
        using var scope = torch.NewDisposeScope();
        using var ng = torch.no_grad();
        var m = Variants.Model(c);
        var tokens = Variants.Tokens(c);
        var clean = LogitsWithPerturbedMemory(m, tokens, perturbedPass: -1, 0);
        Variants.AssertClose(m.forward(new ModelInput(tokens)).Logits, clean, 1e-5, "hand-run passes");
        for (int s = 1; s < c.Stacks; s++)
            foreach (int i in new[] { 0, 2, Variants.T - 1 })
            {
                var perturbed = LogitsWithPerturbedMemory(m, tokens, s, i);
                // Memory of pass s at i first reaches pass s's output at i+1, and the last pass's p−1−s steps later
                // (information from stack 1 reaches the output p−1 steps late) — unless every pass feeds the output.
                int firstAffected = c.Combination == StackCombination.LearnedLinear ? i + 1 : i + c.Stacks - s;
                int same = Math.Min(firstAffected, Variants.T);
                Variants.AssertClose(clean.narrow(1, 0, same), perturbed.narrow(1, 0, same), 1e-5, $"pass {s + 1} memory perturbed from {i}");
                if (firstAffected < Variants.T)
                    Assert.True((clean.narrow(1, firstAffected, 1) - perturbed.narrow(1, firstAffected, 1)).abs().max().item<float>() > 1e-5,
                        $"position {firstAffected} does not depend on pass {s + 1}'s memory at {i}: the cross-attention is not wired");
            }
    }

    [Fact]
    public void The_non_staggered_control_does_see_the_same_position()
    {
        var c = Variants.Tiny with { Stacks = 2, CrossLag = 0 };
        using var scope = torch.NewDisposeScope();
        using var ng = torch.no_grad();
        var m = Variants.Model(c);
        var tokens = Variants.Tokens(c);
        var clean = LogitsWithPerturbedMemory(m, tokens, -1, 0);
        var perturbed = LogitsWithPerturbedMemory(m, tokens, 1, 4);
        Assert.True((clean.narrow(1, 4, 1) - perturbed.narrow(1, 4, 1)).abs().max().item<float>() > 1e-5);
        Variants.AssertClose(clean.narrow(1, 0, 4), perturbed.narrow(1, 0, 4), 1e-5);
    }

    [Fact]
    public void No_NaN_at_position_0_when_empty_rows_output_zero()
    {
        foreach (var empty in new[] { EmptyCrossAttention.Zero, EmptyCrossAttention.NullSlot })
        {
            var c = Variants.Tiny with { Stacks = 2, EmptyCross = empty };
            using var scope = torch.NewDisposeScope();
            using var ng = torch.no_grad();
            var m = Variants.Model(c);
            var one = m.forward(new ModelInput(Variants.Tokens(c, length: 1))).Logits;
            Assert.False(one.isnan().any().item<bool>(), $"{empty}: NaN for a one-token sequence");
        }
    }
}
