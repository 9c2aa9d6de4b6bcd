using StagNotebooks.Evaluation;

namespace StagNotebooks.Tests.Evaluation;

public class VerdictTests
{
    // Arms with sd exactly 1 (values m−1, m, m+1), so d = difference of means.
    static IReadOnlyList<double> Arm(double mean) => new[] { mean - 1, mean, mean + 1 };
    static Dictionary<string, IReadOnlyList<double>> M(params (string, IReadOnlyList<double>)[] arms) => arms.ToDictionary(a => a.Item1, a => a.Item2);

    [Theory]
    [InlineData(2.25, Verdict.Replicated)]      // A lower by 2.25 sd: beyond the threshold
    [InlineData(2.0, Verdict.Inconclusive)]     // exactly 2 sd: within
    [InlineData(1.0, Verdict.Inconclusive)]
    [InlineData(0.0, Verdict.Inconclusive)]
    [InlineData(-2.0, Verdict.Inconclusive)]
    [InlineData(-2.25, Verdict.NotReplicated)]  // A higher (worse) by 2.25 sd
    public void A_beats_B_lower_is_better_at_the_2_sd_boundary(double bMinusA, Verdict expected)
    {
        var r = Verdicts.Judge(Claim.Beats("A beats B", "A", "B"), M(("A", Arm(5)), ("B", Arm(5 + bMinusA))));
        Assert.Equal(expected, r.Label);
        Assert.Equal(bMinusA, r.EffectSize, 9);
        Assert.Equal(3, r.Seeds);
        Assert.Equal(1.0, r.Arms[0].Sd, 12);
    }

    [Fact]
    public void Higher_is_better_flips_the_sign()
    {
        var m = M(("A", Arm(0.9)), ("B", Arm(0.1)));
        Assert.Equal(Verdict.NotReplicated, Verdicts.Judge(Claim.Beats("A beats B", "A", "B", Better.Lower), m, threshold: 0.5).Label);
        Assert.Equal(Verdict.Replicated, Verdicts.Judge(Claim.Beats("A beats B", "A", "B", Better.Higher, "accuracy"), m, threshold: 0.5).Label);
    }

    [Fact]
    public void One_seed_is_inconclusive_with_a_reason_and_no_effect_size()
    {
        var r = Verdicts.Judge(Claim.Beats("A beats B", "A", "B"), M(("A", new[] { 1.0 }), ("B", new[] { 9.0 })));
        Assert.Equal(Verdict.Inconclusive, r.Label);
        Assert.True(double.IsNaN(r.EffectSize));
        Assert.True(double.IsNaN(r.Arms[0].Sd));
        Assert.Contains("1 seed", r.Reason);
        Assert.Contains("sd is undefined", r.Reason);
        Assert.Contains("n/a", r.ToString());
    }

    [Fact]
    public void Zero_spread_decides_by_the_sign_alone()
    {
        var same = new[] { 2.0, 2.0, 2.0 };
        Assert.Equal(Verdict.Replicated, Verdicts.Judge(Claim.Beats("x", "A", "B"), M(("A", new[] { 1.0, 1.0 }), ("B", same))).Label);
        Assert.Equal(Verdict.NotReplicated, Verdicts.Judge(Claim.Beats("x", "A", "B"), M(("A", new[] { 3.0, 3.0 }), ("B", same))).Label);
        var tie = Verdicts.Judge(Claim.Beats("x", "A", "B"), M(("A", same), ("B", same)));
        Assert.Equal(Verdict.Inconclusive, tie.Label);
        Assert.Equal(0, tie.EffectSize);
    }

    [Fact]
    public void Pooled_sd_weights_arms_by_their_seeds()
    {
        // A: sd 1 over 3 seeds; B: sd 3 over 2 seeds ⇒ pooled² = (2·1 + 1·9) / 3.
        var a = ArmStats.Of("A", new[] { -1.0, 0, 1 });
        var b = ArmStats.Of("B", new[] { 10 - 3 / Math.Sqrt(2), 10 + 3 / Math.Sqrt(2) });
        var c = Verdicts.Compare(a, b, Better.Lower);
        Assert.Equal(Math.Sqrt(11.0 / 3), c.PooledSd, 9);
        Assert.Equal(10 / Math.Sqrt(11.0 / 3), c.EffectSize, 9);
        Assert.Equal(Verdict.Replicated, c.Label);
    }

    [Theory]
    [InlineData(5, Verdict.Replicated)]        // 2h = 0 < A = 5 < h = 10, each side 5 sd away
    [InlineData(1.5, Verdict.Inconclusive)]    // within 2 sd of the better end
    [InlineData(8.5, Verdict.Inconclusive)]    // within 2 sd of the worse end
    [InlineData(-3, Verdict.NotReplicated)]    // resolved outside: better than the better end
    [InlineData(13, Verdict.NotReplicated)]    // resolved outside: worse than the worse end
    public void Between_needs_both_sides_resolved(double a, Verdict expected)
    {
        var claim = Claim.Between("shared between 2h and h", "shared", "2h", "h");
        var r = Verdicts.Judge(claim, M(("shared", Arm(a)), ("2h", Arm(0)), ("h", Arm(10))));
        Assert.Equal(expected, r.Label);
        Assert.Equal(2, r.Parts.Count);
        Assert.Equal(Math.Min(a - 0, 10 - a), r.EffectSize, 9);
    }

    [Fact]
    public void Missing_arm_or_bad_values_are_errors_naming_them()
    {
        var e = Assert.Throws<ArgumentException>(() => Verdicts.Judge(Claim.Beats("x", "A", "Z"), M(("A", Arm(0)))));
        Assert.Contains("'Z'", e.Message);
        var nan = Assert.Throws<ArgumentException>(() => Verdicts.Judge(Claim.Beats("x", "A", "B"), M(("A", Arm(0)), ("B", new[] { 1.0, double.NaN }))));
        Assert.Contains("'B'", nan.Message);
    }

    [Fact]
    public void Table_has_one_row_per_claim_with_the_label()
    {
        var m = M(("A", Arm(0)), ("B", Arm(5)), ("C", Arm(10)));
        var t = Verdicts.Table(new[] { Verdicts.Judge(Claim.Beats("A beats B", "A", "B"), m), Verdicts.Judge(Claim.Between("B between", "B", "A", "C"), m) });
        Assert.Equal(2, t.Rows.Count);
        Assert.Equal("Replicated", t["verdict"][0]);
        Assert.Equal(3, t["seeds"][1]);
    }
}
