using System.Globalization;
using Microsoft.Data.Analysis;

namespace StagNotebooks.Evaluation;

/// <summary>The one label a "compared with the paper" cell prints.</summary>
public enum Verdict
{
    /// <summary>The measured difference has the paper's sign and exceeds the threshold (2 pooled sd by default).</summary>
    Replicated,
    /// <summary>The measured difference has the opposite sign and exceeds the threshold.</summary>
    NotReplicated,
    /// <summary>The difference is within the threshold, or the seeds cannot tell (one seed: no sd).</summary>
    Inconclusive,
}

/// <summary>Which way a metric improves: validation loss is lower-is-better, accuracy higher-is-better.</summary>
public enum Better { Lower, Higher }

/// <summary>The shape of a claim: A beats B; or A lies strictly between B (the better end) and C (the worse end).</summary>
public enum ClaimKind { ABeatsB, ABetweenBAndC }

/// <summary>
/// A claim of the paper in a form data can judge. <see cref="B"/> is the compared arm; for
/// <see cref="ClaimKind.ABetweenBAndC"/>, B is the end A must be worse than and C the end A must beat
/// (e.g. "shared 2×h lies between 2h and h in loss": A = shared-2xh, B = baseline-2h, C = baseline-h).
/// </summary>
public sealed record Claim(string Text, ClaimKind Kind, string A, string B, string? C = null, Better Better = Better.Lower, string Metric = "val loss")
{
    public static Claim Beats(string text, string a, string b, Better better = Better.Lower, string metric = "val loss") => new(text, ClaimKind.ABeatsB, a, b, null, better, metric);
    public static Claim Between(string text, string a, string betterEnd, string worseEnd, Better better = Better.Lower, string metric = "val loss") =>
        new(text, ClaimKind.ABetweenBAndC, a, betterEnd, worseEnd, better, metric);
}

/// <summary>Mean ± sample sd (n − 1) of one arm's per-seed measurements; Sd is NaN with one seed.</summary>
public sealed record ArmStats(string Label, int Seeds, double Mean, double Sd)
{
    public static ArmStats Of(string label, IReadOnlyList<double> values)
    {
        if (values.Count == 0) throw new ArgumentException($"arm '{label}' has no measurements");
        if (values.Any(v => !double.IsFinite(v))) throw new ArgumentException($"arm '{label}' has a non-finite measurement: {string.Join(", ", values)}");
        double m = values.Average();
        double sd = values.Count > 1 ? Math.Sqrt(values.Sum(x => (x - m) * (x - m)) / (values.Count - 1)) : double.NaN;
        return new ArmStats(label, values.Count, m, sd);
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Label} {Mean:G4}{(double.IsNaN(Sd) ? " (1 seed, no sd)" : $" ± {Sd:G2}")}");
}

/// <summary>
/// One comparison of two arms. <see cref="Difference"/> is signed so that positive means "the claimed winner is
/// better"; <see cref="EffectSize"/> is Cohen's d = Difference / pooled sd (NaN when the sd is undefined, ±∞ when
/// the seeds agree exactly but the means differ).
/// </summary>
public sealed record Comparison(ArmStats Winner, ArmStats Loser, double Difference, double PooledSd, double EffectSize, Verdict Label, string Reason);

/// <summary>What a verdict cell prints: the claim, each arm's mean ± sd and seeds, the effect size and the label.</summary>
public sealed record VerdictResult(Claim Claim, IReadOnlyList<ArmStats> Arms, IReadOnlyList<Comparison> Parts, double EffectSize, Verdict Label, string Reason)
{
    public int Seeds => Arms.Min(a => a.Seeds);

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"{Claim.Text}: {Label} — {string.Join("; ", Arms)} ({Claim.Metric}, {(Claim.Better == Better.Lower ? "lower" : "higher")} is better); effect size d = {FormatD(EffectSize)}; {Reason}");

    internal static string FormatD(double d) => double.IsNaN(d) ? "n/a" : double.IsInfinity(d) ? (d > 0 ? "+∞" : "−∞") : d.ToString("+0.00;−0.00", CultureInfo.InvariantCulture);
}

/// <summary>
/// Verdicts computed from the data of a run, never written by hand. A difference counts only when it exceeds
/// <c>threshold</c> pooled standard deviations (|d| &gt; 2 by default); anything within is Inconclusive, and so is a
/// comparison with one seed on either side (no sd to compare with).
/// </summary>
public static class Verdicts
{
    public const double DefaultThreshold = 2.0;

    /// <summary>Judges <paramref name="claim"/> on per-seed measurements keyed by arm label.</summary>
    public static VerdictResult Judge(Claim claim, IReadOnlyDictionary<string, IReadOnlyList<double>> measurements, double threshold = DefaultThreshold)
    {
        if (threshold <= 0) throw new ArgumentException($"threshold must be positive (got {threshold})");
        IReadOnlyList<double> Get(string arm) => measurements.TryGetValue(arm, out var v) ? v
            : throw new ArgumentException($"claim '{claim.Text}' needs arm '{arm}'; measured: {string.Join(", ", measurements.Keys)}");
        var a = ArmStats.Of(claim.A, Get(claim.A));
        var b = ArmStats.Of(claim.B, Get(claim.B));
        if (claim.Kind == ClaimKind.ABeatsB)
        {
            var c = Compare(a, b, claim.Better, threshold);
            return new VerdictResult(claim, new[] { a, b }, new[] { c }, c.EffectSize, c.Label, c.Reason);
        }
        if (claim.C is null) throw new ArgumentException($"claim '{claim.Text}': 'between' needs a third arm C");
        var worse = ArmStats.Of(claim.C, Get(claim.C));
        var betterEndBeatsA = Compare(b, a, claim.Better, threshold);    // the better end beats A …
        var aBeatsWorseEnd = Compare(a, worse, claim.Better, threshold); // … and A beats the worse end
        var parts = new[] { betterEndBeatsA, aBeatsWorseEnd };
        var label = parts.Any(p => p.Label == Verdict.NotReplicated) ? Verdict.NotReplicated
                  : parts.All(p => p.Label == Verdict.Replicated) ? Verdict.Replicated : Verdict.Inconclusive;
        // The weaker side decides how far inside the interval A is.
        var d = parts.Select(p => p.EffectSize).Any(double.IsNaN) ? double.NaN : parts.Min(p => p.EffectSize);
        return new VerdictResult(claim, new[] { a, b, worse }, parts, d, label, string.Join("; ", parts.Select(p => p.Reason)));
    }

    /// <summary>"<paramref name="winner"/> is better than <paramref name="loser"/>" judged with pooled sd and Cohen's d.</summary>
    public static Comparison Compare(ArmStats winner, ArmStats loser, Better better, double threshold = DefaultThreshold)
    {
        double diff = better == Better.Lower ? loser.Mean - winner.Mean : winner.Mean - loser.Mean;
        string what = string.Create(CultureInfo.InvariantCulture, $"{winner.Label} vs {loser.Label}: difference {diff:+0.####;−0.####;0}");
        if (winner.Seeds < 2 || loser.Seeds < 2)
            return new Comparison(winner, loser, diff, double.NaN, double.NaN, Verdict.Inconclusive,
                $"{what}, but {(winner.Seeds < 2 ? winner.Label : loser.Label)} has 1 seed: the sd is undefined, so no difference can be resolved");
        double pooled = Math.Sqrt(((winner.Seeds - 1) * winner.Sd * winner.Sd + (loser.Seeds - 1) * loser.Sd * loser.Sd) / (winner.Seeds + loser.Seeds - 2));
        if (pooled == 0)
        {
            if (diff == 0) return new Comparison(winner, loser, 0, 0, 0, Verdict.Inconclusive, $"{what}: identical, every seed");
            double inf = diff > 0 ? double.PositiveInfinity : double.NegativeInfinity;
            return new Comparison(winner, loser, diff, 0, inf, diff > 0 ? Verdict.Replicated : Verdict.NotReplicated, $"{what} with zero spread over seeds");
        }
        double d = diff / pooled;
        string detail = string.Create(CultureInfo.InvariantCulture, $"{what} = {d:0.##} pooled sd ({pooled:G2})");
        if (Math.Abs(d) <= threshold) return new Comparison(winner, loser, diff, pooled, d, Verdict.Inconclusive, $"{detail}, within {threshold:0.#} sd");
        return new Comparison(winner, loser, diff, pooled, d, d > 0 ? Verdict.Replicated : Verdict.NotReplicated, $"{detail}, beyond {threshold:0.#} sd");
    }

    /// <summary>One row per claim: claim, arms (mean ± sd), seeds, effect size, verdict and reason.</summary>
    public static DataFrame Table(IEnumerable<VerdictResult> results)
    {
        var rows = results.ToList();
        return new DataFrame(
            new StringDataFrameColumn("claim", rows.Select(r => r.Claim.Text)),
            new StringDataFrameColumn("metric", rows.Select(r => $"{r.Claim.Metric} ({(r.Claim.Better == Better.Lower ? "lower" : "higher")} better)")),
            new StringDataFrameColumn("measured (mean ± sd)", rows.Select(r => string.Join("; ", r.Arms))),
            new Int32DataFrameColumn("seeds", rows.Select(r => r.Seeds)),
            new StringDataFrameColumn("effect size d", rows.Select(r => VerdictResult.FormatD(r.EffectSize))),
            new StringDataFrameColumn("verdict", rows.Select(r => r.Label.ToString())),
            new StringDataFrameColumn("why", rows.Select(r => r.Reason)));
    }
}
