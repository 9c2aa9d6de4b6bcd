using System.Text.Json;
using System.Text.Json.Serialization;

namespace StagNotebooks.Evaluation;

/// <summary>Everything one `stag eval` run measured; serialises to JSON (per-example details are left out).</summary>
public sealed record EvalResults(string Checkpoint, string Engine, string Tokenizer, PerplexityReport? Perplexity,
    IReadOnlyList<TaskResult> Tasks, FreeRunningResult? FreeRunning)
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,   // NaN where nothing was scored
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static EvalResults FromJson(string json) =>
        JsonSerializer.Deserialize<EvalResults>(json, Json) ?? throw new JsonException("empty evaluation results");
}
