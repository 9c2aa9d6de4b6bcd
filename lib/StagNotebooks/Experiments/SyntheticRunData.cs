using System.Globalization;
using StagNotebooks.Evaluation.Synthetic;
using StagNotebooks.Training;

namespace StagNotebooks.Experiments;

/// <summary>
/// A synthetic task as a run's data: batches generated from the run's seed, no validation split (the suite scores
/// held-out batches itself). Its spec "synthetic:&lt;task&gt;:&lt;vocab&gt;:&lt;length&gt;" lets a scheduler worker make the same task.
/// </summary>
public sealed class SyntheticRunData(SyntheticTaskSpec spec, int vocab, int length) : IRunData
{
    public const string Prefix = "synthetic:";
    public ISyntheticTask Task { get; } = spec.Create(vocab, length);
    public string Id => $"{SyntheticBench.GeneratorVersion}:{Task.Name}";
    public string Spec => string.Create(CultureInfo.InvariantCulture, $"{Prefix}{spec.Name}:{vocab}:{length}");

    public RunSources Open(TrainConfig config) => new(new SyntheticBatches(Task, config.Seed), null);

    /// <summary>The data of a spec written by <see cref="Spec"/>.</summary>
    public static SyntheticRunData Parse(string text)
    {
        var f = text.StartsWith(Prefix, StringComparison.Ordinal) ? text[Prefix.Length..].Split(':') : Array.Empty<string>();
        if (f.Length != 3 || !int.TryParse(f[1], CultureInfo.InvariantCulture, out var v) || !int.TryParse(f[2], CultureInfo.InvariantCulture, out var t))
            throw new FormatException($"'{text}' is not synthetic:<task>:<vocab>:<length>");
        return new SyntheticRunData(SyntheticTaskSpec.Parse(f[0]), v, t);
    }
}
