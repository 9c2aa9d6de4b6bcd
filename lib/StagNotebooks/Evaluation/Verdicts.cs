using System.Globalization;
using MathNet.Numerics.Distributions;

namespace StagNotebooks.Evaluation;

/// <summary>The one label a "compared with the paper" cell prints (the rule: <see cref="Verdicts.Label"/>).</summary>
public enum Verdict
{
    /// <summary>The difference has the paper's sign and its corrected p-value is at most <see cref="Verdicts.Alpha"/>.</summary>
    Replicated,
    /// <summary>The difference has the opposite sign and its corrected p-value is at most <see cref="Verdicts.Alpha"/>.</summary>
    NotReplicated,
    /// <summary>The corrected p-value is above <see cref="Verdicts.Alpha"/>, or the seeds cannot tell (one seed: no interval).</summary>
    Inconclusive,
}

/// <summary>Which way a metric improves: validation loss is lower-is-better, accuracy higher-is-better.</summary>
public enum Better { Lower, Higher }

/// <summary>The shape of a claim: A beats B; or A lies strictly between B (the better end) and C (the worse end).</summary>
public enum ClaimKind { ABeatsB, ABetweenBAndC }

/// <summary>
/// How two arms' per-seed values are compared. Paired: value k of every arm comes from seed k (a seed fixes the
/// initialisation and the batch order of both arms), so the test is on the per-seed differences. Unpaired: Welch's t
/// on the two samples, for arms whose seeds are not matched.
/// </summary>
public enum Pairing { Paired, Unpaired }

/// <summary>How the p-values of a family of claims are corrected for judging them together.</summary>
public enum Correction { None, Holm }

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
public sealed record ArmStats(string Label, int Seeds, double Mean, double Sd, IReadOnlyList<double> Values)
{
    public static ArmStats Of(string label, IReadOnlyList<double> values)
    {
        if (values.Count == 0) throw new ArgumentException($"arm '{label}' has no measurements");
        if (values.Any(v => !double.IsFinite(v))) throw new ArgumentException($"arm '{label}' has a non-finite measurement: {string.Join(", ", values)}");
        double m = values.Average();
        double sd = values.Count > 1 ? Math.Sqrt(values.Sum(x => (x - m) * (x - m)) / (values.Count - 1)) : double.NaN;
        return new ArmStats(label, values.Count, m, sd, values.ToArray());
    }

    public override string ToString() =>
        $"{Label} {Verdicts.Number(Mean)}{(double.IsNaN(Sd) ? " (1 seed, no sd)" : $" ± {Verdicts.Number(Sd, 2)}")}";
}

/// <summary>
/// "<see cref="Winner"/> is better than <see cref="Loser"/>" measured: <see cref="Difference"/> is signed so that
/// positive means the claimed winner is better, [<see cref="Low"/>, <see cref="High"/>] its 95% t-interval and
/// <see cref="P"/> the two-sided p-value of "no difference" (both NaN when one seed leaves no spread to judge by).
/// </summary>
public sealed record Comparison(ArmStats Winner, ArmStats Loser, Pairing Pairing, int Seeds, double Difference, double Low, double High, double P, string Reason);

/// <summary>
/// A judged claim. Difference, interval and p are those of the part that decides it (the only part of "A beats B";
/// for "between", a side resolved the wrong way if there is one, else the weaker side). <see cref="PCorrected"/> and
/// <see cref="Label"/> depend on the family the claim was judged with (<see cref="Verdicts.Correct"/>).
/// </summary>
public sealed record VerdictResult(Claim Claim, IReadOnlyList<ArmStats> Arms, IReadOnlyList<Comparison> Parts, Comparison Deciding,
                                   double PCorrected, string CorrectionUsed, Verdict Label)
{
    public int Seeds => Arms.Min(a => a.Seeds);
    public double Difference => Deciding.Difference;
    public double P => Deciding.P;
    public string Reason => string.Join("; ", Parts.Select(p => p.Reason));

    public override string ToString() =>
        $"{Claim.Text}: {Label} — {string.Join("; ", Arms)} ({Claim.Metric}, {(Claim.Better == Better.Lower ? "lower" : "higher")} is better); " +
        $"difference {Verdicts.Signed(Difference)} {Verdicts.Interval(Deciding)}, p {Verdicts.PValue(P)}, {CorrectionUsed} p {Verdicts.PValue(PCorrected)}";
}

/// <summary>
/// Verdicts computed from the data of a run, never written by hand. The rule, in one place (<see cref="Label"/>):
/// a claim is resolved when its p-value, corrected over the claims judged together (Holm), is at most
/// <see cref="Alpha"/>; the sign of the difference then says replicated or not replicated; otherwise, and with one
/// seed, it is inconclusive. By default arms are paired by seed (value k of every arm is seed k).
/// </summary>
public static class Verdicts
{
    /// <summary>The family-wise error rate of a series' verdicts, and 1 − the intervals' confidence.</summary>
    public const double Alpha = 0.05;

    /// <summary>Judges one claim on per-seed measurements keyed by arm label (uncorrected: a family of one).</summary>
    public static VerdictResult Judge(Claim claim, IReadOnlyDictionary<string, IReadOnlyList<double>> measurements, Pairing pairing = Pairing.Paired)
    {
        IReadOnlyList<double> Get(string arm) => measurements.TryGetValue(arm, out var v) ? v
            : throw new ArgumentException($"claim '{claim.Text}' needs arm '{arm}'; measured: {string.Join(", ", measurements.Keys)}");
        var a = ArmStats.Of(claim.A, Get(claim.A));
        var b = ArmStats.Of(claim.B, Get(claim.B));
        if (claim.Kind == ClaimKind.ABeatsB)
        {
            var c = Compare(a, b, claim.Better, pairing);
            return Decided(claim, new[] { a, b }, new[] { c }, c);
        }
        if (claim.C is null) throw new ArgumentException($"claim '{claim.Text}': 'between' needs a third arm C");
        var worse = ArmStats.Of(claim.C, Get(claim.C));
        var parts = new[] { Compare(b, a, claim.Better, pairing), Compare(a, worse, claim.Better, pairing) };   // the better end beats A, A beats the worse end
        // Intersection-union: both sides must hold, so the weaker side (larger p) decides for the claim; a side
        // that points the wrong way decides against it (the smallest such p).
        var wrong = parts.Where(p => p.Difference < 0 && !double.IsNaN(p.P)).OrderBy(p => p.P).FirstOrDefault();
        var deciding = wrong ?? (parts.Any(p => double.IsNaN(p.P)) ? parts.First(p => double.IsNaN(p.P)) : parts.OrderByDescending(p => p.P).First());
        return Decided(claim, new[] { a, b, worse }, parts, deciding);
    }

    static VerdictResult Decided(Claim claim, ArmStats[] arms, Comparison[] parts, Comparison deciding) =>
        new(claim, arms, parts, deciding, deciding.P, "uncorrected", Label(deciding.Difference, deciding.P));

    /// <summary>The label rule: resolved when the corrected p is at most <see cref="Alpha"/>; the sign says which way.</summary>
    public static Verdict Label(double difference, double pCorrected) =>
        double.IsNaN(pCorrected) || pCorrected > Alpha || difference == 0 ? Verdict.Inconclusive
        : difference > 0 ? Verdict.Replicated : Verdict.NotReplicated;

    /// <summary>"<paramref name="winner"/> is better than <paramref name="loser"/>": paired t on per-seed differences, or Welch's t.</summary>
    public static Comparison Compare(ArmStats winner, ArmStats loser, Better better, Pairing pairing = Pairing.Paired)
    {
        double sign = better == Better.Lower ? -1 : 1;   // positive difference = the winner is better
        string what = $"{winner.Label} vs {loser.Label}";
        if (pairing == Pairing.Paired && winner.Seeds != loser.Seeds)
            throw new ArgumentException($"{what}: paired arms need the same seeds ({winner.Label} has {winner.Seeds}, {loser.Label} has {loser.Seeds}); pass Pairing.Unpaired to compare unmatched seeds");
        double diff = sign * (winner.Mean - loser.Mean);
        if (winner.Seeds < 2 || loser.Seeds < 2)
            return new Comparison(winner, loser, pairing, Math.Min(winner.Seeds, loser.Seeds), diff, double.NaN, double.NaN, double.NaN,
                $"{what}: difference {Signed(diff)}, but {(winner.Seeds < 2 ? winner.Label : loser.Label)} has 1 seed: no spread, so no interval");
        var (se, dof) = pairing == Pairing.Paired ? PairedError(winner, loser) : WelchError(winner, loser);
        var (low, high, p) = TInterval(diff, se, dof);
        string how = pairing == Pairing.Paired ? $"paired over {winner.Seeds} seeds" : $"Welch, {winner.Seeds} and {loser.Seeds} seeds";
        var c = new Comparison(winner, loser, pairing, Math.Min(winner.Seeds, loser.Seeds), diff, low, high, p, "");
        return c with { Reason = $"{what}: difference {Signed(diff)} {Interval(c)}, p {PValue(p)} ({how})" };
    }

    static (double Se, double Dof) PairedError(ArmStats winner, ArmStats loser)
    {
        var d = winner.Values.Zip(loser.Values, (w, l) => w - l).ToArray();
        double m = d.Average();
        double sd = Math.Sqrt(d.Sum(x => (x - m) * (x - m)) / (d.Length - 1));
        return (sd / Math.Sqrt(d.Length), d.Length - 1);
    }

    static (double Se, double Dof) WelchError(ArmStats a, ArmStats b)
    {
        double va = a.Sd * a.Sd / a.Seeds, vb = b.Sd * b.Sd / b.Seeds;
        double se2 = va + vb;
        double dof = se2 == 0 ? a.Seeds + b.Seeds - 2 : se2 * se2 / (va * va / (a.Seeds - 1) + vb * vb / (b.Seeds - 1));
        return (Math.Sqrt(se2), dof);
    }

    /// <summary>95% t-interval and two-sided p for a difference with standard error <paramref name="se"/>; zero spread decides by the sign alone.</summary>
    static (double Low, double High, double P) TInterval(double diff, double se, double dof)
    {
        if (se == 0) return (diff, diff, diff == 0 ? 1.0 : 0.0);
        double q = StudentT.InvCDF(0, 1, dof, 1 - Alpha / 2);
        double p = 2 * StudentT.CDF(0, 1, dof, -Math.Abs(diff / se));
        return (diff - q * se, diff + q * se, p);
    }

    /// <summary>
    /// The claims judged together as one family: each claim's p corrected (Holm: the i-th smallest of m p-values
    /// × (m − i + 1), made monotone, capped at 1; claims without a p are not tests and stay inconclusive), and the
    /// label re-derived from it by <see cref="Label"/>.
    /// </summary>
    public static IReadOnlyList<VerdictResult> Correct(IReadOnlyList<VerdictResult> family, Correction correction = Correction.Holm)
    {
        var adjusted = Adjust(family.Select(r => r.P).ToList(), correction);
        int tests = adjusted.Count(p => !double.IsNaN(p));
        string used = correction == Correction.None ? "uncorrected" : tests == 0 ? "none (no claim has an interval)" : $"Holm over {tests} claims";
        return family.Select((r, i) => r with { PCorrected = adjusted[i], CorrectionUsed = used, Label = Label(r.Difference, adjusted[i]) }).ToList();
    }

    /// <summary>Holm-adjusted p-values (NaN stays NaN and does not count towards m).</summary>
    public static IReadOnlyList<double> Adjust(IReadOnlyList<double> p, Correction correction = Correction.Holm)
    {
        if (correction == Correction.None) return p.ToArray();
        var order = Enumerable.Range(0, p.Count).Where(i => !double.IsNaN(p[i])).OrderBy(i => p[i]).ToList();
        var adjusted = Enumerable.Repeat(double.NaN, p.Count).ToArray();
        double running = 0;
        for (int rank = 0; rank < order.Count; rank++)
        {
            running = Math.Max(running, Math.Min(1, (order.Count - rank) * p[order[rank]]));
            adjusted[order[rank]] = running;
        }
        return adjusted;
    }

    // Numbers for reading: 3 significant digits, no exponent for ordinary magnitudes (one definition: IO/NumberText).
    internal static string Number(double x, int digits = 3) => IO.NumberText.Significant(x, digits);

    internal static string Signed(double x) => double.IsNaN(x) ? "n/a" : x > 0 ? "+" + Number(x) : x < 0 ? "−" + Number(-x) : "0";

    internal static string Interval(Comparison c) => double.IsNaN(c.Low) ? "(no interval: 1 seed)" : $"[{Signed(c.Low)}, {Signed(c.High)}]";

    /// <summary>An interval as <see cref="Interval"/> writes it, read back; (NaN, NaN) for "(no interval: …)".</summary>
    internal static (double Low, double High) ParseInterval(string s)
    {
        if (!s.StartsWith('[') || !s.EndsWith(']')) return (double.NaN, double.NaN);
        var ends = s[1..^1].Split(", ");
        return ends.Length == 2 ? (ParseSigned(ends[0]), ParseSigned(ends[1])) : throw new FormatException($"'{s}' is not an interval [low, high]");
    }

    /// <summary>p as written in tables (3 significant digits; scientific notation below 0.0001), parsed back by <see cref="ParsePValue"/>.</summary>
    internal static string PValue(double p) => double.IsNaN(p) ? "n/a" : p < 1e-4 ? (p == 0 ? "0" : p.ToString("0.00E+0", CultureInfo.InvariantCulture)) : Number(p);

    internal static double ParsePValue(string s) => s == "n/a" ? double.NaN : double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);

    internal static double ParseSigned(string s) => s == "n/a" ? double.NaN : s.StartsWith('−') ? -double.Parse(s[1..], CultureInfo.InvariantCulture) : double.Parse(s.TrimStart('+'), CultureInfo.InvariantCulture);
}
