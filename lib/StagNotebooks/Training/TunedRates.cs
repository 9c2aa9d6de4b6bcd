using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using StagNotebooks.IO;

namespace StagNotebooks.Training;

/// <summary>
/// Each arm at its own learning rate (STAGFORMER.md §7): the peak rates <c>stag bench lr-sweep</c> chose for a preset
/// on held-out seeds, read back by the series so that every claim compares arms at their own best rate. Written
/// beside the sweep's table as figures/lr-sweep/&lt;preset&gt;[-Nseeds]/chosen-rates.json (committed with it). An arm
/// takes the rate of its own variant when it was swept, else that of the swept variant it extends or shares its family
/// with (<see cref="SweptFor"/>), else the preset's; the minimum rate keeps the preset's ratio to the peak.
/// An arm's own LearningRate override still wins (the sweep's arms set theirs).
/// </summary>
public sealed record TunedRates(string Preset, int Seeds, IReadOnlyDictionary<string, double> Rates, string Path)
{
    public const string FileName = "chosen-rates.json";

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    internal sealed record FileModel(string Preset, int Seeds, Dictionary<string, double> Rates);

    /// <summary>Writes the chosen rates of a sweep of <paramref name="preset"/> with <paramref name="seeds"/> seeds into <paramref name="folder"/>, atomically.</summary>
    public static TunedRates Write(string folder, string preset, int seeds, IReadOnlyDictionary<string, double> rates)
    {
        var path = System.IO.Path.Combine(folder, FileName);
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(new FileModel(preset, seeds, rates.ToDictionary(kv => kv.Key, kv => kv.Value)), Json));
        return new TunedRates(preset, seeds, rates, path);
    }

    /// <summary>The file at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">not a chosen-rates file, or a rate that is not a positive number, naming the file</exception>
    public static TunedRates Read(string path)
    {
        FileModel? m;
        try { m = JsonSerializer.Deserialize<FileModel>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a chosen-rates file ({e.Message})", e); }
        if (m?.Preset is null || m.Rates is null) throw new InvalidDataException($"{path}: not a chosen-rates file (it needs Preset, Seeds and Rates)");
        foreach (var (variant, rate) in m.Rates)
            if (!(rate > 0) || !double.IsFinite(rate)) throw new InvalidDataException($"{path}: the rate of {variant} is {rate.ToString(CultureInfo.InvariantCulture)}, not a positive number");
        return new TunedRates(m.Preset, m.Seeds, m.Rates, path);
    }

    /// <summary>
    /// The rates chosen for <paramref name="preset"/> under figures/lr-sweep/ (the sweep with the most seeds when there
    /// are several); null when the preset was never swept: its arms then train at the preset's rate.
    /// </summary>
    public static TunedRates? For(string preset, string? figuresRoot = null)
    {
        var root = System.IO.Path.Combine(figuresRoot ?? RepoPaths.Figures, "lr-sweep");
        if (!Directory.Exists(root)) return null;
        var leaf = new Regex("^" + Regex.Escape(preset) + @"(-(\d+)seeds)?$");
        return Directory.GetDirectories(root)
            .Select(d => (Dir: d, M: leaf.Match(System.IO.Path.GetFileName(d))))
            .Where(x => x.M.Success && File.Exists(System.IO.Path.Combine(x.Dir, FileName)))
            .OrderByDescending(x => x.M.Groups[2].Success ? int.Parse(x.M.Groups[2].Value, CultureInfo.InvariantCulture) : 1)
            .Select(x => Read(System.IO.Path.Combine(x.Dir, FileName)))
            .FirstOrDefault();
    }

    /// <summary>
    /// The swept variant whose rate <paramref name="variant"/> takes: itself; else the longest swept name it extends
    /// with "-…" ("separate-2xh-w8" → "separate-2xh"); else the one swept variant of its family, the name before the
    /// first "-" ("separate-4xh" → "separate-2xh"; none when the family has two, as baseline-h and baseline-2h); else null.
    /// </summary>
    public string? SweptFor(string variant)
    {
        if (Rates.ContainsKey(variant)) return variant;
        if (Rates.Keys.Where(k => variant.StartsWith(k + "-", StringComparison.Ordinal)).OrderByDescending(k => k.Length).FirstOrDefault() is { } extended)
            return extended;
        static string Family(string v) => v.Split('-')[0];
        var family = Rates.Keys.Where(k => Family(k) == Family(variant)).ToList();
        return family.Count == 1 ? family[0] : null;
    }

    /// <summary>The overrides that put <paramref name="variant"/> at its tuned peak rate (minimum scaled with it); none when no swept variant covers it.</summary>
    public IReadOnlyList<string> Overrides(TrainConfig preset, string variant)
    {
        if (SweptFor(variant) is not { } swept) return Array.Empty<string>();
        double rate = Rates[swept], min = preset.MinLearningRate * rate / preset.LearningRate;
        return new[] { "LearningRate=" + rate.ToString("R", CultureInfo.InvariantCulture), "MinLearningRate=" + min.ToString("R", CultureInfo.InvariantCulture) };
    }

    /// <summary><paramref name="arm"/> at its tuned rate: the rate overrides first, so the arm's own overrides still win.</summary>
    public TrainingArm Apply(TrainConfig preset, TrainingArm arm) => arm with { Overrides = Overrides(preset, arm.Variant).Concat(arm.Overrides).ToList() };

    /// <summary>"peak rates chosen by the sweep (figures/lr-sweep/…/chosen-rates.json, 2 held-out seeds): baseline-h 0.006, …".</summary>
    public override string ToString() =>
        $"peak rates chosen by the sweep ({Path}, {Seeds} held-out seed(s)): " +
        string.Join(", ", Rates.Select(kv => $"{kv.Key} {kv.Value.ToString("G3", CultureInfo.InvariantCulture)}")) + "; other arms take the rate of the swept variant they extend or share a family with, else the preset's";
}
