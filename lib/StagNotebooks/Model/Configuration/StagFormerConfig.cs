using System.Text.Json;
using System.Text.Json.Serialization;

namespace StagNotebooks.Model;

public enum FfnKind { GeGLU, Gelu }
public enum WeightSharing { Separate, Shared }
/// <summary>What cross-attention does at a query with no visible memory (position 0): the paper is silent.</summary>
public enum EmptyCrossAttention
{
    /// <summary>A learned key/value slot every query may attend to, so no row is ever empty.</summary>
    NullSlot,
    /// <summary>Rows with no visible memory output zero.</summary>
    Zero,
}
/// <summary>How a p &gt; 2 model forms its output: the last stack, or a learned linear combination of every stack's output.</summary>
public enum StackCombination { LastStack, LearnedLinear }
public enum PositionalEncoding { Rope, Learned, None }
/// <summary>
/// The depth that scales the init of residual output projections (o_proj, down_proj): N(0, 0.02/√(2·depth)).
/// TotalDepth: depth = p·h, every block counted as if one stream (GPT-2 over the whole model). StackDepth: depth = h,
/// each stack's own stream (every stack restarts from E, so its residual stream only sums h blocks).
/// </summary>
public enum ResidualInitScale { TotalDepth, StackDepth }

/// <summary>
/// A learned gate on cross-attention's output, tanh(g) with g initialised at 0: a StagFormer then starts as stack p
/// alone (an h-layer model over E) and opens cross-attention as it learns. Without it, full-window cross-attention of
/// a small model can turn early into a constant, unigram-like bias that drowns the current token (STAGFORMER.md §7).
/// </summary>
public enum CrossGateKind
{
    /// <summary>No gate (the paper's block).</summary>
    None,
    /// <summary>One scalar per cross-attention layer.</summary>
    PerLayer,
    /// <summary>One scalar per head of each cross-attention layer.</summary>
    PerHead,
}

/// <summary>
/// One StagFormer (p ≥ 2) or baseline Transformer (p = 1). Every field is validated by <see cref="Validate"/>,
/// whose errors name the field.
/// </summary>
public sealed record StagFormerConfig
{
    public int VocabSize { get; init; } = 4096;
    public int DModel { get; init; } = 128;
    public int Heads { get; init; } = 4;
    public int FfnHidden { get; init; } = 512;
    public FfnKind Ffn { get; init; } = FfnKind.GeGLU;
    /// <summary>h: blocks in each stack (the baseline has one stack of this many).</summary>
    public int LayersPerStack { get; init; } = 2;
    /// <summary>p: number of staggered stacks; 1 is the ordinary Transformer.</summary>
    public int Stacks { get; init; } = 2;
    public WeightSharing Weights { get; init; } = WeightSharing.Separate;
    /// <summary>Cross-attention window w: keys k ∈ [i−w, i−1]; null means the whole past.</summary>
    public int? CrossWindow { get; init; }
    /// <summary>
    /// How far behind the memory a query may look: 1 = staggered (k ≤ i−1, the paper). 0 = the non-staggered
    /// control (k ≤ i), which keeps the cross-attention parameters but removes the parallelism.
    /// </summary>
    public int CrossLag { get; init; } = 1;
    public EmptyCrossAttention EmptyCross { get; init; } = EmptyCrossAttention.NullSlot;
    public StackCombination Combination { get; init; } = StackCombination.LastStack;
    public PositionalEncoding Positional { get; init; } = PositionalEncoding.Rope;
    public double RopeTheta { get; init; } = 10000.0;
    public bool TiedEmbeddings { get; init; } = true;
    public double Dropout { get; init; }
    public int MaxContext { get; init; } = 256;
    /// <summary>
    /// Initialise every cross-attention output projection at zero: the separate-weights model then starts as an
    /// h-layer model over E (stack 2 alone) and cross-attention is learned from there. A hypothesis for the quality gap.
    /// </summary>
    public bool ZeroInitCrossOutput { get; init; }
    public ResidualInitScale ResidualInit { get; init; } = ResidualInitScale.TotalDepth;
    /// <summary>A tanh gate initialised at 0 on every cross-attention output (<see cref="CrossGateKind"/>).</summary>
    public CrossGateKind CrossGate { get; init; } = CrossGateKind.None;
    public double NormEps { get; init; } = 1e-6;

    [JsonIgnore] public int HeadDim => DModel / Heads;
    [JsonIgnore] public bool IsBaseline => Stacks == 1;
    /// <summary>Total blocks a token passes through in teacher-forced mode (p·h).</summary>
    [JsonIgnore] public int TotalLayers => Stacks * LayersPerStack;

    /// <summary>Throws <see cref="ConfigException"/> naming the first invalid field.</summary>
    public StagFormerConfig Validate()
    {
        void Need(bool ok, string field, string why) { if (!ok) throw new ConfigException(field, why); }
        Need(VocabSize >= 2, nameof(VocabSize), $"must be at least 2 (got {VocabSize})");
        Need(DModel >= 1, nameof(DModel), $"must be positive (got {DModel})");
        Need(Heads >= 1, nameof(Heads), $"must be positive (got {Heads})");
        Need(DModel % Heads == 0, nameof(Heads), $"{Heads} does not divide DModel {DModel}");
        Need(Positional != PositionalEncoding.Rope || HeadDim % 2 == 0, nameof(Heads), $"RoPE needs an even head dimension (DModel/Heads = {HeadDim})");
        Need(FfnHidden >= 1, nameof(FfnHidden), $"must be positive (got {FfnHidden})");
        Need(LayersPerStack >= 1, nameof(LayersPerStack), $"must be at least 1 (got {LayersPerStack})");
        Need(Stacks >= 1, nameof(Stacks), $"must be at least 1 (got {Stacks})");
        Need(Stacks > 1 || Weights == WeightSharing.Separate, nameof(Weights), "a baseline (Stacks = 1) has nothing to share; use Separate");
        Need(CrossWindow is null || CrossWindow >= 1, nameof(CrossWindow), $"must be at least 1, or null for the whole past (got {CrossWindow})");
        Need(CrossLag is 0 or 1, nameof(CrossLag), $"must be 1 (staggered) or 0 (non-staggered control) (got {CrossLag})");
        Need(CrossGate == CrossGateKind.None || Stacks > 1, nameof(CrossGate), "a baseline (Stacks = 1) has no cross-attention to gate");
        Need(Combination == StackCombination.LastStack || Stacks > 1, nameof(Combination), "a learned combination needs Stacks > 1");
        Need(Dropout is >= 0 and < 1, nameof(Dropout), $"must be in [0, 1) (got {Dropout})");
        Need(MaxContext >= 1, nameof(MaxContext), $"must be positive (got {MaxContext})");
        Need(RopeTheta > 0, nameof(RopeTheta), $"must be positive (got {RopeTheta})");
        Need(NormEps > 0, nameof(NormEps), $"must be positive (got {NormEps})");
        return this;
    }

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Parses and validates; an unknown or mistyped field is an error naming it and the source.</summary>
    public static StagFormerConfig FromJson(string json, string source = "config")
    {
        StagFormerConfig? c;
        try { c = JsonSerializer.Deserialize<StagFormerConfig>(json, Json); }
        catch (JsonException e) { throw new ConfigException(e.Path ?? "(root)", $"{source}: {e.Message}"); }
        return (c ?? throw new ConfigException("(root)", $"{source}: empty document")).Validate();
    }
}

/// <summary>An invalid configuration; <see cref="Field"/> names the offending field.</summary>
public sealed class ConfigException(string field, string why) : Exception($"config field {field}: {why}")
{
    public string Field { get; } = field;
}
