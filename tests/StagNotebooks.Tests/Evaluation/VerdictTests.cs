using StagNotebooks.Evaluation;
using StagNotebooks.Reporting;

namespace StagNotebooks.Tests.Evaluation;

public class VerdictTests
{
    static Dictionary<string, IReadOnlyList<double>> M(params (string, double[])[] arms) => arms.ToDictionary(a => a.Item1, a => (IReadOnlyList<double>)a.Item2);

    // B = A + the given per-seed differences (lower is better, so positive differences favour A).
    static Dictionary<string, IReadOnlyList<double>> Paired(double[] a, double[] diffs) => M(("A", a), ("B", a.Zip(diffs, (x, d) => x + d).ToArray()));

    [Fact]
    public void Paired_t_interval_and_p_match_the_textbook_values()
    {
        // Differences 1, 2, 3: mean 2, sd 1, se 1/√3, t = 3.464 on 2 dof ⇒ p = 0.0742; t(0.975, 2) = 4.3027.
        var r = Verdicts.Judge(Claim.Beats("A beats B", "A", "B"), Paired(new[] { 3.0, 1.0, 7.0 }, new[] { 1.0, 2.0, 3.0 }));
        Assert.Equal(2.0, r.Difference, 12);
        Assert.Equal(0.074180, r.P, 5);
        Assert.Equal(2 - 4.302653 / Math.Sqrt(3), r.Deciding.Low, 5);
        Assert.Equal(2 + 4.302653 / Math.Sqrt(3), r.Deciding.High, 5);
        Assert.Equal(Verdict.Inconclusive, r.Label);   // p > 0.05
        Assert.Equal(3, r.Seeds);
        Assert.Contains("paired over 3 seeds", r.Reason);
    }

    [Theory]
    [InlineData(new[] { 2.0, 2.1, 1.9 }, Verdict.Replicated)]        // p = 0.00083
    [InlineData(new[] { -2.0, -2.1, -1.9 }, Verdict.NotReplicated)]  // the same, the other way
    [InlineData(new[] { 1.0, 2.0, 3.0 }, Verdict.Inconclusive)]      // p = 0.074
    [InlineData(new[] { 1.0, -1.0, 0.0 }, Verdict.Inconclusive)]     // no difference on average
    public void The_label_follows_the_sign_when_p_is_at_most_alpha(double[] diffs, Verdict expected)
    {
        var r = Verdicts.Judge(Claim.Beats("A beats B", "A", "B"), Paired(new[] { 5.0, 4.0, 6.0 }, diffs));
        Assert.Equal(expected, r.Label);
        Assert.Equal(expected, Verdicts.Label(r.Difference, r.P));
    }

    [Fact]
    public void Pairing_uses_the_seeds_the_unpaired_test_ignores()
    {
        // Each seed moves both arms together; the per-seed difference is always 0.5.
        var m = M(("A", new[] { 1.0, 2.0, 3.0 }), ("B", new[] { 1.5, 2.5, 3.5 }));
        var paired = Verdicts.Judge(Claim.Beats("A beats B", "A", "B"), m);
        var unpaired = Verdicts.Judge(Claim.Beats("A beats B", "A", "B"), m, Pairing.Unpaired);
        Assert.Equal(Verdict.Replicated, paired.Label);   // zero spread of differences: p = 0
        Assert.Equal(0, paired.P);
        // Welch: se = √(1/3 + 1/3), t = 0.612 on 4 dof ⇒ p = 0.573.
        Assert.Equal(0.5734, unpaired.P, 3);
        Assert.Equal(Verdict.Inconclusive, unpaired.Label);
        Assert.Contains("Welch, 3 and 3 seeds", unpaired.Reason);
    }

    [Fact]
    public void Welch_handles_unequal_seeds_and_paired_refuses_them()
    {
        var m = M(("A", new[] { 1.0, 1.1, 0.9 }), ("B", new[] { 2.0, 2.2 }));
        var e = Assert.Throws<ArgumentException>(() => Verdicts.Judge(Claim.Beats("x", "A", "B"), m));
        Assert.Equal("A vs B: paired arms need the same seeds (A has 3, B has 2); pass Pairing.Unpaired to compare unmatched seeds", e.Message);
        var r = Verdicts.Judge(Claim.Beats("x", "A", "B"), m, Pairing.Unpaired);
        Assert.Equal(1.1, r.Difference, 12);
        Assert.Equal(2, r.Seeds);
    }

    [Fact]
    public void Higher_is_better_flips_the_sign()
    {
        var m = M(("A", new[] { 0.9, 0.91, 0.89 }), ("B", new[] { 0.1, 0.12, 0.08 }));
        Assert.Equal(Verdict.NotReplicated, Verdicts.Judge(Claim.Beats("A beats B", "A", "B", Better.Lower), m).Label);
        Assert.Equal(Verdict.Replicated, Verdicts.Judge(Claim.Beats("A beats B", "A", "B", Better.Higher, "accuracy"), m).Label);
    }

    [Fact]
    public void One_seed_is_inconclusive_with_a_reason_and_no_interval()
    {
        var r = Verdicts.Judge(Claim.Beats("A beats B", "A", "B"), M(("A", new[] { 1.0 }), ("B", new[] { 9.0 })));
        Assert.Equal(Verdict.Inconclusive, r.Label);
        Assert.True(double.IsNaN(r.P));
        Assert.True(double.IsNaN(r.Arms[0].Sd));
        Assert.Equal("A vs B: difference +8, but A has 1 seed: no spread, so no interval", r.Reason);
        Assert.Contains("(1 seed, no sd)", r.ToString());
        var t = VerdictTable.Of(new[] { r });
        Assert.Equal("(no interval: 1 seed)", t["95% interval"][0]);
        Assert.Equal("n/a", t["p corrected"][0]);
    }

    [Fact]
    public void Zero_spread_decides_by_the_sign_alone()
    {
        var same = new[] { 2.0, 2.0, 2.0 };
        Assert.Equal(Verdict.Replicated, Verdicts.Judge(Claim.Beats("x", "A", "B"), M(("A", new[] { 1.0, 1.0, 1.0 }), ("B", same))).Label);
        Assert.Equal(Verdict.NotReplicated, Verdicts.Judge(Claim.Beats("x", "A", "B"), M(("A", new[] { 3.0, 3.0, 3.0 }), ("B", same))).Label);
        var tie = Verdicts.Judge(Claim.Beats("x", "A", "B"), M(("A", same), ("B", same)));
        Assert.Equal(Verdict.Inconclusive, tie.Label);
        Assert.Equal(1.0, tie.P);
    }

    [Theory]
    [InlineData(5, Verdict.Replicated)]        // 2h = 0 < A = 5 < h = 10, each side far away
    [InlineData(0.5, Verdict.Inconclusive)]    // too close to the better end for 3 seeds
    [InlineData(9.5, Verdict.Inconclusive)]    // too close to the worse end
    [InlineData(-3, Verdict.NotReplicated)]    // resolved outside: better than the better end
    [InlineData(13, Verdict.NotReplicated)]    // resolved outside: worse than the worse end
    public void Between_needs_both_sides_resolved(double a, Verdict expected)
    {
        // Seed noise of sd ≤ 0.5, different in each arm, so the per-seed differences spread.
        double[] Arm(double mean, double[] noise) => noise.Select(n => mean + n).ToArray();
        var claim = Claim.Between("shared between 2h and h", "shared", "2h", "h");
        var m = M(("shared", Arm(a, new[] { -0.5, 0, 0.5 })), ("2h", Arm(0, new[] { 0.25, -0.5, 0.25 })), ("h", Arm(10, new[] { 0.5, 0, -0.5 })));
        var r = Verdicts.Judge(claim, m);
        Assert.Equal(expected, r.Label);
        Assert.Equal(2, r.Parts.Count);
        Assert.Contains(r.Deciding, r.Parts);
        Assert.Equal(Math.Min(a - 0, 10 - a), r.Difference, 9);
    }

    [Fact]
    public void Holm_adjusts_the_smallest_p_most_and_stays_monotone()
    {
        var adjusted = Verdicts.Adjust(new[] { 0.01, 0.04, 0.03, double.NaN });
        Assert.Equal(0.03, adjusted[0], 12);   // 3 × 0.01
        Assert.Equal(0.06, adjusted[2], 12);   // 2 × 0.03
        Assert.Equal(0.06, adjusted[1], 12);   // 1 × 0.04 = 0.04, raised to the running maximum
        Assert.True(double.IsNaN(adjusted[3]));   // not a test, not counted in m
        Assert.Equal(new[] { 1.0, 1.0 }, Verdicts.Adjust(new[] { 0.6, 0.9 }));   // 2 × 0.6 capped at 1, then monotone
        Assert.Equal(new[] { 0.01, 0.04 }, Verdicts.Adjust(new[] { 0.01, 0.04 }, Correction.None));
    }

    [Fact]
    public void Correction_can_turn_a_resolved_claim_inconclusive()
    {
        // Differences 2 ± 0.6 over 3 seeds: p ≈ 0.028 alone; over a family of three such claims Holm needs ≤ 0.0167 for the first.
        var m = Paired(new[] { 1.0, 2.0, 3.0 }, new[] { 1.4, 2.0, 2.6 });
        var one = Verdicts.Judge(Claim.Beats("A beats B", "A", "B"), m);
        Assert.InRange(one.P, 0.02, 0.05);
        Assert.Equal(Verdict.Replicated, one.Label);
        var family = new[] { one, one with { }, one with { } };
        var uncorrected = VerdictTable.Of(family, Correction.None);
        var holm = VerdictTable.Of(family);
        Assert.Equal("Replicated", uncorrected["verdict"][0]);
        Assert.Equal("uncorrected", uncorrected["correction"][0]);
        Assert.Equal("Inconclusive", holm["verdict"][0]);
        Assert.Equal("Holm over 3 claims", holm["correction"][0]);
        Assert.Equal(Verdicts.PValue(Math.Min(1, 3 * one.P)), holm["p corrected"][0]);
    }

    [Fact]
    public void Missing_arm_or_bad_values_are_errors_naming_them()
    {
        var e = Assert.Throws<ArgumentException>(() => Verdicts.Judge(Claim.Beats("x", "A", "Z"), M(("A", new[] { 0.0, 1 }))));
        Assert.Contains("'Z'", e.Message);
        var nan = Assert.Throws<ArgumentException>(() => Verdicts.Judge(Claim.Beats("x", "A", "B"), M(("A", new[] { 0.0, 1 }), ("B", new[] { 1.0, double.NaN }))));
        Assert.Contains("'B'", nan.Message);
    }

    [Fact]
    public void Table_has_one_row_per_claim_with_interval_p_correction_and_label()
    {
        var m = M(("A", new[] { 0.0, 0.1, -0.1 }), ("B", new[] { 5.0, 5.2, 4.9 }), ("C", new[] { 10.0, 10.1, 9.8 }));
        var t = VerdictTable.Of(new[] { Verdicts.Judge(Claim.Beats("A beats B", "A", "B"), m), Verdicts.Judge(Claim.Between("B between", "B", "A", "C"), m) });
        Assert.Equal(VerdictTable.Columns, t.Columns.Select(c => c.Name));
        Assert.Equal(2, t.Rows.Count);
        Assert.Equal("Replicated", t["verdict"][0]);
        Assert.Equal("paired", t["pairing"][0]);
        Assert.Equal("+5.03", t["difference"][0]);
        Assert.StartsWith("[+", (string)t["95% interval"][0]);
        Assert.Equal(3, t["seeds"][1]);
    }

    [Theory]
    [InlineData(3.90312, "3.9")]
    [InlineData(0.0058771, "0.00588")]
    [InlineData(722050.0, "722000")]
    [InlineData(-0.349, "-0.349")]
    public void Numbers_are_written_with_three_significant_digits_and_no_exponent(double x, string expected) =>
        Assert.Equal(expected, Verdicts.Number(x));
}
