namespace StagNotebooks.Model;

/// <summary>Named model shapes: the paper's (from the authors' replies: d 1536, GeGLU 12288, 12 heads, 256K vocabulary) and small CPU ones.</summary>
public static class ModelShapes
{
    // Paper: d 1536, GeGLU FFN 12288, 12 heads, context 1024, 256K SentencePiece vocabulary.
    static readonly StagFormerConfig Paper = new()
    {
        VocabSize = 256_000, DModel = 1536, Heads = 12, FfnHidden = 12288, Ffn = FfnKind.GeGLU, MaxContext = 1024,
    };

    // Small CPU shape: runs training in minutes on 2 cores.
    static readonly StagFormerConfig Cpu = new()
    {
        VocabSize = 4096, DModel = 256, Heads = 4, FfnHidden = 1024, MaxContext = 256,
    };

    // Tests: a few thousand parameters.
    static readonly StagFormerConfig Tiny = new()
    {
        VocabSize = 97, DModel = 32, Heads = 4, FfnHidden = 64, MaxContext = 64,
    };

    public static readonly IReadOnlyDictionary<string, StagFormerConfig> All = new Dictionary<string, StagFormerConfig>
    {
        ["paper-18L"] = Paper with { Stacks = 1, LayersPerStack = 18 },
        ["paper-36L"] = Paper with { Stacks = 1, LayersPerStack = 36 },
        ["paper-2x18L-separate"] = Paper with { Stacks = 2, LayersPerStack = 18, Weights = WeightSharing.Separate },
        ["paper-2x18L-shared"] = Paper with { Stacks = 2, LayersPerStack = 18, Weights = WeightSharing.Shared },
        ["cpu-h"] = Cpu with { Stacks = 1, LayersPerStack = 3 },
        ["cpu-2h"] = Cpu with { Stacks = 1, LayersPerStack = 6 },
        ["cpu-2xh-separate"] = Cpu with { Stacks = 2, LayersPerStack = 3, Weights = WeightSharing.Separate },
        ["cpu-2xh-shared"] = Cpu with { Stacks = 2, LayersPerStack = 3, Weights = WeightSharing.Shared },
        // Wider CPU shape: weight reads (bandwidth) dominate a decode step instead of per-call overhead.
        // The h-layer model of the cpu-small training preset (d 128, h = 2; brown-bpe's 4096 tokens): a decode step
        // of tiny matrices, where per-call overhead is nearly everything. (Not "cpu-small": that names the preset.)
        ["cpu-small-h"] = Cpu with { DModel = 128, Heads = 4, FfnHidden = 512, Stacks = 1, LayersPerStack = 2, MaxContext = 128 },
        ["cpu-wide-h"] = Cpu with { DModel = 512, Heads = 8, FfnHidden = 2048, Stacks = 1, LayersPerStack = 3 },
        ["tiny-baseline"] = Tiny with { Stacks = 1, LayersPerStack = 2 },
        ["tiny-2x1-separate"] = Tiny with { Stacks = 2, LayersPerStack = 1 },
        ["tiny-2x1-shared"] = Tiny with { Stacks = 2, LayersPerStack = 1, Weights = WeightSharing.Shared },
    };

    public static StagFormerConfig Get(string name) =>
        All.TryGetValue(name, out var c) ? c.Validate()
            : throw new ConfigException("shape", $"unknown shape '{name}'; known: {string.Join(", ", All.Keys)}");
}
