using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Model;

/// <summary>The model variants every invariant is checked on: p ∈ {1,2,3,4}, separate and shared, full and windowed.</summary>
public static class Variants
{
    public static readonly StagFormerConfig Tiny = new()
    {
        VocabSize = 53, DModel = 16, Heads = 2, FfnHidden = 32, LayersPerStack = 2, MaxContext = 32,
    };

    public const int T = 10;   // sequence length in tests: windows 1 and 3 are both shorter

    public static IEnumerable<(string Name, StagFormerConfig Config)> All()
    {
        yield return ("p1", Tiny with { Stacks = 1 });
        foreach (var p in new[] { 2, 3, 4 })
            foreach (var w in new[] { WeightSharing.Separate, WeightSharing.Shared })
                foreach (int? win in new int?[] { null, 1, 3 })
                    yield return ($"p{p}-{w}-w{win?.ToString() ?? "full"}", Tiny with { Stacks = p, Weights = w, CrossWindow = win });
        yield return ("p2-zero-empty", Tiny with { Stacks = 2, EmptyCross = EmptyCrossAttention.Zero });
        yield return ("p2-zero-empty-w1", Tiny with { Stacks = 2, EmptyCross = EmptyCrossAttention.Zero, CrossWindow = 1 });
        yield return ("p3-mix", Tiny with { Stacks = 3, Combination = StackCombination.LearnedLinear });
        yield return ("p2-learned-pos-gelu-untied", Tiny with { Stacks = 2, Positional = PositionalEncoding.Learned, Ffn = FfnKind.Gelu, TiedEmbeddings = false });
        yield return ("p2-window-longer-than-seq", Tiny with { Stacks = 2, CrossWindow = 25 });
        yield return ("p2-gate-head", Tiny with { Stacks = 2, CrossGate = CrossGateKind.PerHead });
        yield return ("p3-Shared-gate-layer-w3", Tiny with { Stacks = 3, Weights = WeightSharing.Shared, CrossGate = CrossGateKind.PerLayer, CrossWindow = 3 });
    }

    public static TheoryData<string> Names()
    {
        var d = new TheoryData<string>();
        foreach (var (n, _) in All()) d.Add(n);
        return d;
    }

    public static StagFormerConfig Get(string name) => All().First(v => v.Name == name).Config;

    /// <summary>A model with every parameter (null slots and mixing weights too) randomised, so no invariant holds by accident.</summary>
    public static StagFormerModel Model(StagFormerConfig c, long seed = 7)
    {
        var m = new StagFormerModel(c, seed);
        using var ng = torch.no_grad();
        torch.manual_seed(seed + 1);
        // Larger than the training init, so influence survives the p−1 cross-attention hops of a deep stagger.
        foreach (var (name, p) in m.named_parameters())
            p.copy_(name.EndsWith("norm.weight", StringComparison.Ordinal) ? 1.0 + torch.randn_like(p) * 0.2 : torch.randn_like(p) * 0.3);
        m.eval();
        return m;
    }

    public static Tensor Tokens(StagFormerConfig c, long batch = 2, int length = T, long seed = 3)
    {
        var g = new Generator((ulong)seed);
        return torch.randint(0, c.VocabSize, new long[] { batch, length }, generator: g, dtype: ScalarType.Int64);
    }

    public static void AssertClose(Tensor expected, Tensor actual, double atol = 1e-4, string what = "")
    {
        Assert.Equal(expected.shape, actual.shape);
        double diff = (expected - actual).abs().max().item<float>();
        Assert.True(diff <= atol, $"{what}: max |Δ| = {diff:G3} > {atol}");
    }
}
