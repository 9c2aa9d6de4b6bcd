using StagNotebooks.Model;

namespace StagNotebooks.Training;

/// <summary>
/// Named presets. smoke: seconds, for tests. cpu-small: the embedded default the notebooks use (a run takes a few
/// minutes on 2 cores). gpu-small: a single consumer GPU. paper-*: the paper's shapes at context 1024 (the paper
/// publishes no optimizer or schedule; ours is AdamW, warmup + cosine). A preset's model is the StagFormer 2×h;
/// <see cref="ModelVariants"/> turns it into the baselines and the other variants on identical data.
/// </summary>
public static class TrainingPresets
{
    public static readonly IReadOnlyDictionary<string, TrainConfig> All = new Dictionary<string, TrainConfig>
    {
        ["smoke"] = new()
        {
            Preset = "smoke",
            Model = new StagFormerConfig { VocabSize = 0, DModel = 32, Heads = 2, FfnHidden = 64, LayersPerStack = 1, Stacks = 2, MaxContext = 32 },
            BatchSize = 4, ContextLength = 32, MaxSteps = 40, WarmupSteps = 4, LearningRate = 1e-2, MinLearningRate = 1e-3,
            EvalEvery = 20, EvalBatches = 2, CheckpointEvery = 20,
        },
        ["cpu-small"] = new()
        {
            Preset = "cpu-small",
            Model = new StagFormerConfig { VocabSize = 0, DModel = 128, Heads = 4, FfnHidden = 512, LayersPerStack = 2, Stacks = 2, MaxContext = 128 },
            BatchSize = 16, ContextLength = 128, MaxSteps = 200, WarmupSteps = 20, LearningRate = 3e-3, MinLearningRate = 3e-4,
            EvalEvery = 25, EvalBatches = 4, CheckpointEvery = 50,
        },
        // For resolving power on real text (issue 15): the cheapest budget of `stag bench fidelity-search` that
        // resolves depth (figures/fidelity-search/): on the 1024-token BPE (brown-bpe-1k, below), one layer per
        // stack (baseline h = 1 layer, 2h = 2), 1500 steps (3.1M tokens, about 1.5 epochs), 16 validation batches.
        ["cpu-fidelity"] = new()
        {
            Preset = "cpu-fidelity",
            Model = new StagFormerConfig { VocabSize = 0, DModel = 128, Heads = 4, FfnHidden = 512, LayersPerStack = 1, Stacks = 2, MaxContext = 128 },
            BatchSize = 16, ContextLength = 128, MaxSteps = 1500, WarmupSteps = 75, LearningRate = 3e-3, MinLearningRate = 3e-4,
            EvalEvery = 100, EvalBatches = 16, CheckpointEvery = 250,
        },
        ["gpu-small"] = new()
        {
            Preset = "gpu-small",
            Model = new StagFormerConfig { VocabSize = 0, DModel = 512, Heads = 8, FfnHidden = 2048, LayersPerStack = 6, Stacks = 2, MaxContext = 512 },
            BatchSize = 32, ContextLength = 512, MaxSteps = 5000, WarmupSteps = 200, LearningRate = 1e-3, MinLearningRate = 1e-4,
            EvalEvery = 250, EvalBatches = 20, CheckpointEvery = 500,
        },
        ["paper-18L"] = Paper(ModelShapes.Get("paper-18L"), "paper-18L"),
        ["paper-36L"] = Paper(ModelShapes.Get("paper-36L"), "paper-36L"),
        ["paper-2x18L-separate"] = Paper(ModelShapes.Get("paper-2x18L-separate"), "paper-2x18L-separate"),
        ["paper-2x18L-shared"] = Paper(ModelShapes.Get("paper-2x18L-shared"), "paper-2x18L-shared"),
    };

    // Paper scale: ~250k steps at context 1024 ≈ 300B tokens ⇒ ~1.2M tokens per step (batch 1152 × 1024).
    static TrainConfig Paper(StagFormerConfig model, string name) => new()
    {
        Preset = name, Model = model, BatchSize = 1152, ContextLength = 1024, MaxSteps = 250_000, WarmupSteps = 2000,
        LearningRate = 3e-4, MinLearningRate = 3e-5, EvalEvery = 2000, EvalBatches = 50, CheckpointEvery = 2000,
    };

    /// <summary>The bundled tokenizer a preset trains on (data/packed/&lt;it&gt;); brown-bpe unless it names another.</summary>
    static readonly IReadOnlyDictionary<string, string> Tokenizers = new Dictionary<string, string> { ["cpu-fidelity"] = "brown-bpe-1k" };

    /// <summary>The tokenizer <paramref name="preset"/> trains on: the notebooks, `stag train` and the search use it by default.</summary>
    public static string Tokenizer(string preset)
    {
        Get(preset);   // an unknown preset fails here with the list of known ones
        return Tokenizers.TryGetValue(preset, out var t) ? t : "brown-bpe";
    }

    public static TrainConfig Get(string name) =>
        All.TryGetValue(name, out var c) ? c.Validate()
            : throw new ConfigException("preset", $"unknown preset '{name}'; known: {string.Join(", ", All.Keys)}");
}
