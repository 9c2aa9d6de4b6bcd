namespace StagNotebooks.Model;

/// <summary>The paper's comparisons, made from one preset's h-layer shape so every variant trains on identical tokens.</summary>
public static class ModelVariants
{
    public static readonly IReadOnlyList<string> Names = new[]
    {
        "baseline-h", "baseline-2h", "separate-2xh", "shared-2xh",
        "separate-2xh-w1", "separate-2xh-w8", "separate-2xh-w32", "separate-3xh", "separate-4xh", "separate-4xh-mix",
        "separate-2xh-nonstaggered", "wide-h", "wide-h-shared-matched", "separate-4xhalf",
        "separate-4x2h",
    };

    /// <summary>
    /// The wide-and-shallow baseline: h layers (the sequential depth of one StagFormer step) made wider until its
    /// non-embedding parameters match those of <paramref name="matched"/> (by default the separate-weights 2×h). Width moves in steps of 2·Heads (RoPE needs
    /// an even head size); the FFN keeps its ratio to the width.
    /// </summary>
    public static StagFormerConfig WideShallow(StagFormerConfig m, string matched = "separate-2xh")
    {
        static long NonEmbedding(StagFormerConfig c) => ParameterReport.Expected(c).Where(g => g.Stack != "embedding").Sum(g => g.Count);
        var target = NonEmbedding(Apply(m, matched));
        double ffnRatio = (double)m.FfnHidden / m.DModel;
        var baseline = Apply(m, "baseline-h");
        return Enumerable.Range(1, 64).Select(k => m.DModel + 2 * m.Heads * (k - 1))
            .Select(d => baseline with { DModel = d, FfnHidden = (int)Math.Round(ffnRatio * d) })
            .OrderBy(c => Math.Abs(NonEmbedding(c) - target)).First();
    }

    /// <summary>Turns the preset's StagFormer into a named variant (h = the preset's LayersPerStack).</summary>
    public static StagFormerConfig Apply(StagFormerConfig m, string variant)
    {
        int h = m.LayersPerStack;
        var sep = m with { Stacks = 2, Weights = WeightSharing.Separate, CrossWindow = null, Combination = StackCombination.LastStack, CrossLag = 1 };
        return variant switch
        {
            "baseline-h" => m with { Stacks = 1, Weights = WeightSharing.Separate, CrossWindow = null, Combination = StackCombination.LastStack },
            "baseline-2h" => m with { Stacks = 1, LayersPerStack = 2 * h, Weights = WeightSharing.Separate, CrossWindow = null, Combination = StackCombination.LastStack },
            "separate-2xh" => sep,
            "shared-2xh" => sep with { Weights = WeightSharing.Shared },
            "separate-3xh" => sep with { Stacks = 3 },
            "separate-4xh" => sep with { Stacks = 4 },
            "separate-4xh-mix" => sep with { Stacks = 4, Combination = StackCombination.LearnedLinear },
            "separate-2xh-nonstaggered" => sep with { CrossLag = 0 },
            "wide-h" => WideShallow(m),
            // The shared-weights model's parameter-matched baseline: h layers, widened to shared 2×h's parameters.
            "wide-h-shared-matched" => WideShallow(m, "shared-2xh"),
            // p > 2 diagnosis: 4 stacks with the total depth of 2×h (more lag, less depth per stack).
            "separate-4xhalf" => sep with { Stacks = 4, LayersPerStack = Math.Max(1, h / 2) },
            // The same lag of 3 with twice the depth per stack: against 4×h, depth per stack at a fixed lag for any h
            // (4×h/2 is 4×h itself when h = 1).
            "separate-4x2h" => sep with { Stacks = 4, LayersPerStack = 2 * h },
            _ when variant.StartsWith("separate-2xh-w", StringComparison.Ordinal) && int.TryParse(variant["separate-2xh-w".Length..], out var w) => sep with { CrossWindow = w },
            _ => throw new ConfigException("variant", $"unknown variant '{variant}'; known: {string.Join(", ", Names)} (or separate-2xh-wN for any window N)"),
        };
    }
}
