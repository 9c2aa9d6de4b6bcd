using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using StagNotebooks.Model;

namespace StagNotebooks.Training;

public enum LrSchedule { Cosine, WarmupStableDecay }

/// <summary>
/// Everything a training run depends on besides the data: the model and the optimisation. Printable, JSON
/// round-trippable and overridable field by field (<see cref="WithOverrides"/>); errors name the field.
/// </summary>
public sealed record TrainConfig
{
    public string Preset { get; init; } = "custom";
    /// <summary>The model. VocabSize 0 means "the tokenizer's vocabulary", filled in when the data is known.</summary>
    public StagFormerConfig Model { get; init; } = new();
    public int BatchSize { get; init; } = 16;
    /// <summary>Sequence length of a training window (at most Model.MaxContext).</summary>
    public int ContextLength { get; init; } = 128;
    public int GradAccumulation { get; init; } = 1;
    public double LearningRate { get; init; } = 3e-3;
    public double MinLearningRate { get; init; } = 3e-4;
    public int WarmupSteps { get; init; } = 20;
    public LrSchedule Schedule { get; init; } = LrSchedule.Cosine;
    /// <summary>Warmup-stable-decay: the final fraction of the steps over which the rate decays.</summary>
    public double DecayFraction { get; init; } = 0.2;
    public double WeightDecay { get; init; } = 0.1;
    /// <summary>
    /// Decay the cross-attention null key/value slots too. Off: they are learned constants like norms, and an
    /// earlier version decayed them only because their (1, H, 1, D) shape passes the "dim ≥ 2 is a matrix" rule.
    /// </summary>
    public bool DecayNullSlots { get; init; }
    /// <summary>
    /// The learning rate of the cross-attention parameters (every stacks.*.cross_layers.* tensor: norms, projections,
    /// null slots, gate) as a multiple of the schedule's; null = 1. ×0.1 keeps a small model's full-window
    /// cross-attention from growing into a constant bias early (STAGFORMER.md §7).
    /// </summary>
    public double? CrossAttentionLrScale { get; init; }
    /// <summary>The learning rate of the token and position embeddings (and so of a tied output head) as a multiple of the schedule's; null = 1.</summary>
    public double? EmbeddingLrScale { get; init; }
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;
    /// <summary>Global gradient-norm clip; 0 turns it off.</summary>
    public double GradClip { get; init; } = 1.0;
    public int MaxSteps { get; init; } = 300;
    /// <summary>Stop after this many training tokens (null: MaxSteps decides).</summary>
    public long? TokenBudget { get; init; }
    /// <summary>Stop after this many seconds of training (null: no limit). A run stopped by time is not bit-reproducible.</summary>
    public double? TimeBudgetSeconds { get; init; }
    public int EvalEvery { get; init; } = 50;
    /// <summary>Validation windows per evaluation (each of BatchSize × ContextLength tokens).</summary>
    public int EvalBatches { get; init; } = 8;
    public int CheckpointEvery { get; init; } = 100;
    public long Seed { get; init; } = 1;

    [JsonIgnore] public long TokensPerStep => (long)BatchSize * ContextLength * GradAccumulation;

    /// <summary>The number of optimizer steps the run will take.</summary>
    [JsonIgnore] public int TotalSteps => TokenBudget is long t ? (int)Math.Min(MaxSteps, Math.Max(1, t / TokensPerStep)) : MaxSteps;

    public TrainConfig Validate()
    {
        void Need(bool ok, string field, string why) { if (!ok) throw new ConfigException(field, why); }
        Need(BatchSize >= 1, nameof(BatchSize), $"must be at least 1 (got {BatchSize})");
        Need(ContextLength >= 2, nameof(ContextLength), $"must be at least 2 (got {ContextLength})");
        Need(ContextLength <= Model.MaxContext, nameof(ContextLength), $"{ContextLength} exceeds Model.MaxContext {Model.MaxContext}");
        Need(GradAccumulation >= 1, nameof(GradAccumulation), $"must be at least 1 (got {GradAccumulation})");
        Need(LearningRate > 0, nameof(LearningRate), $"must be positive (got {LearningRate})");
        Need(MinLearningRate >= 0 && MinLearningRate <= LearningRate, nameof(MinLearningRate), $"must be in [0, LearningRate] (got {MinLearningRate})");
        Need(WarmupSteps >= 0, nameof(WarmupSteps), $"must not be negative (got {WarmupSteps})");
        Need(DecayFraction is > 0 and <= 1, nameof(DecayFraction), $"must be in (0, 1] (got {DecayFraction})");
        Need(WeightDecay >= 0, nameof(WeightDecay), $"must not be negative (got {WeightDecay})");
        Need(CrossAttentionLrScale is null or > 0, nameof(CrossAttentionLrScale), $"must be positive, or null for 1 (got {CrossAttentionLrScale})");
        Need(EmbeddingLrScale is null or > 0, nameof(EmbeddingLrScale), $"must be positive, or null for 1 (got {EmbeddingLrScale})");
        Need(Beta1 is >= 0 and < 1, nameof(Beta1), $"must be in [0, 1) (got {Beta1})");
        Need(Beta2 is >= 0 and < 1, nameof(Beta2), $"must be in [0, 1) (got {Beta2})");
        Need(GradClip >= 0, nameof(GradClip), $"must not be negative (got {GradClip})");
        Need(MaxSteps >= 1, nameof(MaxSteps), $"must be at least 1 (got {MaxSteps})");
        Need(TokenBudget is null or > 0, nameof(TokenBudget), $"must be positive (got {TokenBudget})");
        Need(TimeBudgetSeconds is null or > 0, nameof(TimeBudgetSeconds), $"must be positive (got {TimeBudgetSeconds})");
        Need(EvalEvery >= 1, nameof(EvalEvery), $"must be at least 1 (got {EvalEvery})");
        Need(EvalBatches >= 1, nameof(EvalBatches), $"must be at least 1 (got {EvalBatches})");
        Need(CheckpointEvery >= 1, nameof(CheckpointEvery), $"must be at least 1 (got {CheckpointEvery})");
        if (Model.VocabSize != 0) Model.Validate();
        else (Model with { VocabSize = 2 }).Validate();
        return this;
    }

    public string ToJson() => JsonSerializer.Serialize(this, StagFormerConfig.Json);

    public static TrainConfig FromJson(string json, string source = "config")
    {
        TrainConfig? c;
        try { c = JsonSerializer.Deserialize<TrainConfig>(json, StagFormerConfig.Json); }
        catch (JsonException e) { throw new ConfigException(e.Path ?? "(root)", $"{source}: {e.Message}"); }
        return (c ?? throw new ConfigException("(root)", $"{source}: empty document")).Validate();
    }

    /// <summary>
    /// Applies overrides "Field=value" or "Model.Field=value" (value as JSON: 3e-4, true, "Shared", null; bare words are
    /// strings). An unknown field is an error naming it.
    /// </summary>
    public TrainConfig WithOverrides(IEnumerable<string> overrides)
    {
        var root = JsonNode.Parse(ToJson())!.AsObject();
        foreach (var o in overrides)
        {
            int eq = o.IndexOf('=');
            if (eq <= 0) throw new ConfigException(o, "an override must look like Field=value or Model.Field=value");
            var path = o[..eq].Trim().Split('.');
            var raw = o[(eq + 1)..].Trim();
            JsonObject target = root;
            for (int i = 0; i < path.Length - 1; i++)
                target = target[path[i]] as JsonObject ?? throw new ConfigException(o[..eq], $"'{path[i]}' is not a group of fields");
            if (!target.ContainsKey(path[^1]))
                throw new ConfigException(o[..eq], $"no such field; known: {string.Join(", ", target.Select(kv => kv.Key))}");
            JsonNode? value;
            try { value = JsonNode.Parse(raw); }
            catch (JsonException) { value = JsonValue.Create(raw); }
            target[path[^1]] = value;
        }
        return FromJson(root.ToJsonString(), "override");
    }
}
