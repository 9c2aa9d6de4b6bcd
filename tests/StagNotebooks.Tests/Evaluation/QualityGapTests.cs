using System.Text.Json.Nodes;
using StagNotebooks.Evaluation;
using StagNotebooks.Training;
using StagNotebooks.Workbench;
using StagNotebooks.Reporting;
using StagNotebooks.Experiments;

namespace StagNotebooks.Tests.Evaluation;

public class QualityGapTests
{
    static Dictionary<string, string> Leaves(TrainConfig c)
    {
        var leaves = new Dictionary<string, string>();
        void Walk(JsonNode? n, string path)
        {
            if (n is JsonObject o) foreach (var kv in o) Walk(kv.Value, path == "" ? kv.Key : $"{path}.{kv.Key}");
            else leaves[path] = n?.ToJsonString() ?? "null";
        }
        Walk(JsonNode.Parse(c.ToJson()), "");
        return leaves;
    }

    [Fact]
    public void Each_hypothesis_changes_exactly_the_one_field_it_names_of_separate_2xh()
    {
        var control = Leaves(ExperimentRuns.Config("cpu-fidelity", QualityGap.Control, 4096, seed: 2));
        foreach (var h in QualityGap.Hypotheses)
        {
            var arm = Leaves(ExperimentRuns.Config("cpu-fidelity", h.Arm.Variant, 4096, seed: 2, overrides: h.Arm.Overrides));
            var changed = arm.Where(kv => control[kv.Key] != kv.Value).Select(kv => kv.Key).ToList();
            Assert.Equal(new[] { h.Arm.Overrides.Single().Split('=')[0] }, changed);
        }
    }

    [Fact]
    public void The_claims_judge_only_trained_arms_and_say_whether_the_gap_remains()
    {
        var labels = QualityGap.Arms().Select(a => a.Label).ToList();
        Assert.Equal(labels.Count, labels.Distinct().Count());
        Assert.Equal(new[] { QualityGap.Reference, QualityGap.Control }, labels.Take(2));
        var claims = QualityGap.Claims();
        Assert.Equal(2 * QualityGap.Hypotheses.Count, claims.Count);
        Assert.All(claims, c => { Assert.Contains(c.A, labels); Assert.Contains(c.B, labels); });

        // Constructed losses: the first option closes the gap (beats the control, ties baseline h); the others do nothing.
        var losses = new Dictionary<string, IReadOnlyList<double>>
        {
            [QualityGap.Reference] = new[] { 5.00, 5.01, 5.02 },
            [QualityGap.Control] = new[] { 5.20, 5.21, 5.22 },
        };
        foreach (var (h, i) in QualityGap.Hypotheses.Select((h, i) => (h, i)))
            losses[h.Arm.Label] = i == 0 ? new[] { 5.00, 5.01, 5.02 } : new[] { 5.20, 5.21, 5.22 };
        var verdicts = claims.Select(c => Verdicts.Judge(c, losses)).ToList();
        Assert.Equal(Verdict.Replicated, verdicts[0].Label);     // option 1 beats the control
        Assert.Equal(Verdict.Inconclusive, verdicts[1].Label);   // … and baseline h no longer beats it
        Assert.Equal(Verdict.Inconclusive, verdicts[2].Label);   // option 2 does not beat the control
        Assert.Equal(Verdict.Replicated, verdicts[3].Label);     // … and the gap remains
    }

    [Fact]
    public void Training_the_arms_applies_each_arms_overrides_and_reuses_runs_shared_with_plain_variants()
    {
        using var tmp = new TestPaths.TempDir();
        var data = ExperimentRuns.Data();
        var plain = ExperimentRuns.TrainAll("smoke", new[] { QualityGap.Control }, 1, data, tmp.Path);
        var arms = ExperimentRuns.TrainAll("smoke", QualityGap.Arms(), 1, data, tmp.Path);
        Assert.Equal(QualityGap.Arms().Select(a => a.Label), arms.Select(a => a.Label));
        var control = arms.Single(a => a.Label == QualityGap.Control).Seeds[0];
        Assert.True(control.Reused);
        Assert.Equal(plain[0].Seeds[0].Run.Path, control.Run.Path);
        var zero = arms.Single(a => a.Label == "separate-2xh+zero-cross-out").Seeds[0];
        Assert.False(zero.Reused);
        Assert.True(zero.Run.Config.Model.ZeroInitCrossOutput);
        Assert.Contains("separate-2xh+zero-cross-out", zero.Run.Path);
        Assert.True(arms.Single(a => a.Label == "separate-2xh+null-decay").Seeds[0].Run.Config.DecayNullSlots);
        var table = QualityGapReport.Table(arms);
        Assert.Equal(0.0, (double)table.Columns["− baseline-h"][0]!);
    }
}
