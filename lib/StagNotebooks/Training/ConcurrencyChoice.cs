using System.Text.Json;
using System.Text.Json.Nodes;
using StagNotebooks.IO;

namespace StagNotebooks.Training;

/// <summary>
/// How many runs of a preset to train at once on this machine, as <c>stag bench train --concurrency 1,2</c> measured
/// it: the bench records its result in &lt;runs&gt;/concurrency.json (per preset, with the core count it was measured on),
/// and a series asked for concurrency 0 ("auto") reads it. Unmeasured, or measured on another core count: 1.
/// </summary>
public static class ConcurrencyChoice
{
    public const string FileName = "concurrency.json";

    /// <summary>The measured best concurrency for <paramref name="preset"/> under <paramref name="runsRoot"/>, or 1.</summary>
    public static int For(string preset, string runsRoot)
    {
        var file = Path.Combine(runsRoot, FileName);
        if (!File.Exists(file)) return 1;
        try
        {
            var entry = JsonNode.Parse(File.ReadAllText(file))?[preset];
            return entry?["cores"]?.GetValue<int>() == Environment.ProcessorCount ? Math.Max(1, entry["best"]!.GetValue<int>()) : 1;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{file}: not a concurrency record ({e.Message}); delete it or rerun `stag bench train --concurrency 1,2`", e);
        }
    }

    /// <summary>Records a measurement (atomically, keeping other presets'): the best level and each level's runs per hour.</summary>
    public static void Record(string runsRoot, string preset, int best, IReadOnlyDictionary<int, double> runsPerHour)
    {
        Directory.CreateDirectory(runsRoot);
        var file = Path.Combine(runsRoot, FileName);
        var all = File.Exists(file) ? JsonNode.Parse(File.ReadAllText(file)) as JsonObject ?? new JsonObject() : new JsonObject();
        var levels = new JsonObject();
        foreach (var (level, rate) in runsPerHour) levels[level.ToString(System.Globalization.CultureInfo.InvariantCulture)] = rate;
        all[preset] = new JsonObject
        {
            ["best"] = best, ["cores"] = Environment.ProcessorCount, ["runs_per_hour"] = levels, ["measured"] = DateTime.UtcNow.ToString("O"),
        };
        AtomicFile.WriteAllText(file, all.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
