using System.Globalization;
using System.Text;
using StagNotebooks.Model;

namespace StagNotebooks.Training;

/// <summary>What a preset trains on: the bundled corpus (packed with its tokenizer) or a synthetic task.</summary>
public enum PresetKind { Text, Synthetic }

/// <summary>
/// One named preset: the model (a StagFormer 2×h that <see cref="ModelVariants"/> turns into the compared variants),
/// the data's tokenizer, the training budget and the device it expects. <see cref="Presets"/> holds every one.
/// </summary>
/// <param name="Tokenizer">the bundled tokenizer the corpus is packed with (text presets; null for synthetic ones, whose tasks make their own tokens)</param>
/// <param name="Device">the device it is meant for: auto (CUDA when present, else CPU), or cuda for shapes a CPU cannot train</param>
/// <param name="Purpose">what it is for, in a few words (help, error messages and docs/presets.md print it)</param>
public sealed record Preset(string Name, PresetKind Kind, TrainConfig Config, string? Tokenizer, string Device, string Purpose)
{
    /// <summary>"d 128, 4 heads, FFN 512, h = 1": the 2×h model's shape.</summary>
    public string Shape => $"d {Config.Model.DModel}, {Config.Model.Heads} heads, FFN {Config.Model.FfnHidden}, h = {Config.Model.LayersPerStack}";

    /// <summary>"1,500 steps × 2,048 tokens = 3.07 M tokens".</summary>
    public string Budget => string.Create(CultureInfo.InvariantCulture,
        $"{Config.TotalSteps:N0} steps × {Config.TokensPerStep:N0} tokens = {Config.TotalSteps * (double)Config.TokensPerStep / 1e6:#,0.##} M tokens");
}

/// <summary>
/// The one registry of presets: the notebooks, <c>stag train</c>, <c>stag reproduce</c>, the synthetic suite, the budget
/// search and the benchmarks read a preset here, and <c>--help</c>, error messages and docs/presets.md are generated from it.
/// (Decode-benchmark shapes without training are <see cref="ModelShapes"/>; a text preset's name is also accepted there.)
/// </summary>
public static class Presets
{
    /// <summary>The preset the series judges its claims on (<c>stag reproduce</c>'s default, with 3 seeds).</summary>
    public const string Judging = "cpu-judge";

    // Declared before All: static fields initialize in the order they are written.
    static readonly TrainConfig FidelityBudget = new()
    {
        Model = new StagFormerConfig { DModel = 128, Heads = 4, FfnHidden = 512, LayersPerStack = 1, Stacks = 2, MaxContext = 128 },
        BatchSize = 16, ContextLength = 128, MaxSteps = 1500, WarmupSteps = 75, LearningRate = 3e-3, MinLearningRate = 3e-4,
        EvalEvery = 100, EvalBatches = 16, CheckpointEvery = 250,
    };

    public static readonly IReadOnlyList<Preset> All = new[]
    {
        Text("smoke", "seconds: tests and CI", "brown-bpe", new()
        {
            Model = new StagFormerConfig { DModel = 32, Heads = 2, FfnHidden = 64, LayersPerStack = 1, Stacks = 2, MaxContext = 32 },
            BatchSize = 4, ContextLength = 32, MaxSteps = 40, WarmupSteps = 4, LearningRate = 1e-2, MinLearningRate = 1e-3,
            EvalEvery = 20, EvalBatches = 2, CheckpointEvery = 20,
        }),
        Text("cpu-small", "the series in minutes per model on 2 cores; one seed decides nothing", "brown-bpe", new()
        {
            Model = new StagFormerConfig { DModel = 128, Heads = 4, FfnHidden = 512, LayersPerStack = 2, Stacks = 2, MaxContext = 128 },
            BatchSize = 16, ContextLength = 128, MaxSteps = 200, WarmupSteps = 20, LearningRate = 3e-3, MinLearningRate = 3e-4,
            EvalEvery = 25, EvalBatches = 4, CheckpointEvery = 50,
        }),
        // The cheapest budget of `stag bench fidelity-search` that resolves depth (figures/fidelity-search/): the
        // 1024-token BPE, one layer per stack (baseline h = 1 layer, 2h = 2), 1500 steps (~1.5 epochs), 16 val batches.
        Text("cpu-fidelity", "resolves depth (2h vs h) at h = 1, a degenerate test of staggering", "brown-bpe-1k", FidelityBudget),
        // The same budget at h = 2 per stack: the regime ladder's deepest rung measured so far (figures/ladder/; depth
        // still resolved there), where stack 2 has depth of its own over the current token. The series judges its claims here.
        Text(Judging, "judges the claims: cpu-fidelity's budget at h = 2 per stack (`stag reproduce`'s default)", "brown-bpe-1k",
             FidelityBudget with { Model = FidelityBudget.Model with { LayersPerStack = 2 } }),
        Text("gpu-small", "a single consumer GPU", "brown-bpe", new()
        {
            Model = new StagFormerConfig { DModel = 512, Heads = 8, FfnHidden = 2048, LayersPerStack = 6, Stacks = 2, MaxContext = 512 },
            BatchSize = 32, ContextLength = 512, MaxSteps = 5000, WarmupSteps = 200, LearningRate = 1e-3, MinLearningRate = 1e-4,
            EvalEvery = 250, EvalBatches = 20, CheckpointEvery = 500,
        }, device: "cuda"),
        Paper("paper-18L"), Paper("paper-36L"), Paper("paper-2x18L-separate"), Paper("paper-2x18L-shared"),
        // The synthetic suite: the vocabulary is the task's, so it is part of the preset.
        Synthetic("synth-smoke", "seconds per model: tests", new()
        {
            Model = new StagFormerConfig { VocabSize = 48, DModel = 32, Heads = 2, FfnHidden = 64, LayersPerStack = 1, Stacks = 2, MaxContext = 32 },
            BatchSize = 8, ContextLength = 32, MaxSteps = 30, WarmupSteps = 3, LearningRate = 1e-2, MinLearningRate = 1e-3,
            WeightDecay = 0.0, EvalEvery = 1000, EvalBatches = 1, CheckpointEvery = 1000,
        }),
        // h = 1, so "2×1 vs 1 vs 2 layers" is the question. Short sequences (16 tokens: induction repeats a 3-token
        // segment, recall has 4 pairs, pointer-2 4 nodes) and d = 32: at 32–64 tokens and d = 64 the 2-layer model had
        // not formed an induction head after 1500–3000 steps; at 16 tokens it does by step ~600 and reaches 100 %.
        Synthetic("synth-small", "the synthetic table, 20–60 s per model on 2 cores", new()
        {
            Model = new StagFormerConfig { VocabSize = 32, DModel = 32, Heads = 2, FfnHidden = 128, LayersPerStack = 1, Stacks = 2, MaxContext = 16 },
            BatchSize = 64, ContextLength = 16, MaxSteps = 2000, WarmupSteps = 100, LearningRate = 3e-3, MinLearningRate = 3e-4,
            WeightDecay = 0.0, EvalEvery = 10000, EvalBatches = 1, CheckpointEvery = 10000,
        }),
    };

    static Preset Text(string name, string purpose, string tokenizer, TrainConfig c, string device = "auto") =>
        new(name, PresetKind.Text, c with { Preset = name }, tokenizer, device, purpose);

    static Preset Synthetic(string name, string purpose, TrainConfig c) => new(name, PresetKind.Synthetic, c with { Preset = name }, null, "auto", purpose);

    // Paper scale: ~250k steps at context 1024 ≈ 300B tokens ⇒ ~1.2M tokens per step (batch 1152 × 1024). The paper
    // publishes no optimizer or schedule; ours is AdamW, warmup + cosine.
    static Preset Paper(string shape) => Text(shape, "the paper's shape (d 1536, 256K vocabulary); a GPU cluster", "brown-bpe", new()
    {
        Model = ModelShapes.Get(shape), BatchSize = 1152, ContextLength = 1024, MaxSteps = 250_000, WarmupSteps = 2000,
        LearningRate = 3e-4, MinLearningRate = 3e-5, EvalEvery = 2000, EvalBatches = 50, CheckpointEvery = 2000,
    }, device: "cuda");

    static readonly Dictionary<string, Preset> ByName = All.ToDictionary(p => p.Name);

    /// <summary>The preset's names of one kind, in registry order.</summary>
    public static IReadOnlyList<string> Names(PresetKind kind) => All.Where(p => p.Kind == kind).Select(p => p.Name).ToList();

    /// <exception cref="ConfigException">an unknown name, with the known ones</exception>
    public static Preset Get(string name) =>
        ByName.TryGetValue(name, out var p) ? p with { Config = p.Config.Validate() }
            : throw new ConfigException("preset", $"unknown preset '{name}'; known: {string.Join(", ", All.Select(x => x.Name))}");

    /// <exception cref="ConfigException">an unknown name, or a preset of the other kind (naming the ones that fit)</exception>
    public static Preset Get(string name, PresetKind kind)
    {
        var p = Get(name);
        return p.Kind == kind ? p
            : throw new ConfigException("preset", $"'{name}' is a {Word(p.Kind)} preset; this needs a {Word(kind)} one: {string.Join(", ", Names(kind))}");
    }

    /// <summary>The training config of a text preset (its model's vocabulary still 0: the tokenizer sets it).</summary>
    public static TrainConfig Config(string name) => Get(name, PresetKind.Text).Config;

    /// <summary>
    /// The one place a (text preset, variant, seed, overrides) becomes a run's config: the preset's model at
    /// <paramref name="vocab"/> tokens and <paramref name="h"/> layers per stack (null: the preset's), turned into
    /// <paramref name="variant"/> by <see cref="ModelVariants"/>, then the overrides ("Field=value").
    /// </summary>
    public static TrainConfig ConfigFor(string preset, string variant, int vocab, long seed = 1, IEnumerable<string>? overrides = null, int? h = null)
    {
        var p = Config(preset);
        var model = p.Model with { VocabSize = vocab, LayersPerStack = h ?? p.Model.LayersPerStack };
        var c = p with { Model = ModelVariants.Apply(model, variant), Seed = seed };
        var list = overrides?.ToList();
        return (list is { Count: > 0 } ? c.WithOverrides(list) : c).Validate();
    }

    /// <summary>The tokenizer a text preset trains on.</summary>
    public static string Tokenizer(string name) => Get(name, PresetKind.Text).Tokenizer!;

    static string Word(PresetKind k) => k == PresetKind.Text ? "text" : "synthetic";

    /// <summary>One line per preset of <paramref name="kind"/> for a command's --help: "name  purpose".</summary>
    public static string Help(PresetKind kind, string indent)
    {
        var list = All.Where(p => p.Kind == kind).ToList();
        int w = list.Max(p => p.Name.Length);
        return string.Join("\n" + indent, list.Select(p => $"{p.Name.PadRight(w)}  {p.Purpose}"));
    }

    /// <summary>docs/presets.md: every preset's shape, data, budget, device and purpose (a test compares the file with it).</summary>
    public static string Markdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("# Presets").AppendLine();
        sb.AppendLine("Generated from `lib/StagNotebooks/Training/Presets.cs` by `stag docs presets` (a test checks this file against it).");
        sb.AppendLine("A preset's model is the StagFormer 2×h; `ModelVariants` turns it into baseline h, baseline 2h and the other variants");
        sb.AppendLine("on identical data. Learning rates are the peak of warmup + cosine (AdamW).").AppendLine();
        sb.AppendLine("| preset | kind | model (2×h) | data | budget | peak LR | device | for |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var p in All)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| `{p.Name}` | {Word(p.Kind)} | {p.Shape} | {p.Tokenizer ?? $"tasks (vocabulary {p.Config.Model.VocabSize})"} | {p.Budget} | {p.Config.LearningRate:G3} | {p.Device} | {p.Purpose} |"));
        return sb.ToString();
    }
}
