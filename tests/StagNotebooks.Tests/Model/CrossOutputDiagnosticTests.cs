using StagNotebooks.Model;
using StagNotebooks.Tests.Training;
using StagNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Model;

/// <summary>The cross-attention diagnostic (STAGFORMER.md §7): output RMS, constant share, unigram correlation.</summary>
public class CrossOutputDiagnosticTests
{
    [Fact]
    public void A_constant_output_along_the_log_unigram_direction_scores_share_1_and_correlation_1()
    {
        const int V = 7, d = 4;
        var logUnigram = torch.tensor(new float[] { -1, -2, -0.5f, -3, -1.5f, -2.5f, -0.2f });
        var unembed = torch.zeros(V, d);
        unembed[.., 0] = logUnigram;                 // column 0 of the unembedding is the log-unigram vector
        unembed[.., 1] = torch.ones(V);
        var y = torch.zeros(2, 5, d);
        y[.., .., 0] = torch.tensor(3.0f);           // every position adds 3·e₀: contribution = 3·logUnigram
        var s = CrossOutputDiagnostic.Summarize(1, 0, y, embeddingRms: 0.5, unembed, torch.ones(d), logUnigram);
        Assert.Equal(1.0, s.ConstantShare, 6);
        Assert.Equal(1.0, s.UnigramCorrelation, 6);
        Assert.Equal(Math.Sqrt(9.0 / d) / 0.5, s.RmsRatio, 6);   // RMS over the d coordinates, over the embedding's RMS

        y[.., .., 0] = torch.tensor(-3.0f);          // the opposite direction: anti-correlated
        Assert.Equal(-1.0, CrossOutputDiagnostic.Summarize(1, 0, y, 0.5, unembed, torch.ones(d), logUnigram).UnigramCorrelation, 6);
    }

    [Fact]
    public void An_output_that_averages_to_zero_has_no_constant_share()
    {
        var y = torch.zeros(1, 4, 2);
        y[0, .., 0] = torch.tensor(new float[] { 1, -1, 1, -1 });   // alternating sign: mean 0
        var s = CrossOutputDiagnostic.Summarize(1, 0, y, 1.0, torch.randn(5, 2), torch.ones(2), torch.randn(5));
        Assert.Equal(0.0, s.ConstantShare, 9);
    }

    [Fact]
    public void Measure_reports_every_cross_layer_of_every_upper_pass_and_nothing_for_a_baseline()
    {
        var c = Variants.Tiny with { Stacks = 3 };
        using var m = Variants.Model(c);
        var tokens = Variants.Tokens(c);
        var stats = CrossOutputDiagnostic.Measure(m, tokens, tokens);
        Assert.Equal(new[] { (1, 0), (1, 1), (2, 0), (2, 1) }, stats.Select(s => (s.Pass, s.Layer)));
        Assert.All(stats, s => { Assert.InRange(s.ConstantShare, 0, 1); Assert.InRange(s.UnigramCorrelation, -1, 1); Assert.True(s.RmsRatio > 0); });
        using var baseline = Variants.Model(Variants.Tiny with { Stacks = 1 });
        Assert.Empty(CrossOutputDiagnostic.Measure(baseline, tokens, tokens));
        // With a closed gate the layers add nothing.
        using var gated = new StagFormerModel(Variants.Tiny with { Stacks = 2, CrossGate = CrossGateKind.PerLayer }, seed: 1);
        Assert.All(CrossOutputDiagnostic.Measure(gated, tokens, tokens), s => Assert.Equal(0.0, s.RmsRatio));
    }

    [Fact]
    public void Training_logs_the_diagnostic_at_every_validation_step_and_a_resume_does_not_repeat_rows()
    {
        using var dir = new TestPaths.TempDir();
        var c = TrainerTests.Smoke(steps: 20) with { Model = TrainerTests.Smoke().Model with { Stacks = 2 }, EvalEvery = 5, CheckpointEvery = 5 };
        using (var cancel = new CancellationTokenSource())
            TrainerTests.Train(dir.Path, c, "diag", (p, _) => { if (p.Step == 12) cancel.Cancel(); }, cancel.Token);   // stopped after step 12 (last checkpoint: 10)
        // A row written after the last checkpoint, as a kill between a validation step and its checkpoint leaves: the resume drops it.
        File.AppendAllText(Path.Combine(dir.Path, "diag", CrossDiagnosticsLog.FileName), "15,1,0,9,9,9\n");
        TrainerTests.Train(dir.Path, c, "diag");
        var rows = CrossDiagnosticsLog.ReadFrom(Path.Combine(dir.Path, "diag"));
        var expected = new[] { 5, 10, 15, 20 }.SelectMany(step => Enumerable.Repeat(step, c.Model.LayersPerStack));   // one row per cross layer per validation step
        Assert.Equal(expected, rows.Select(r => r.Step));
        Assert.Equal(Enumerable.Range(0, c.Model.LayersPerStack), rows.Where(r => r.Step == 20).Select(r => r.Stats.Layer));
        Assert.All(rows, r => Assert.Equal(1, r.Stats.Pass));
        Assert.DoesNotContain(rows, r => r.Stats.RmsRatio == 9);
    }

    [Fact]
    public void A_malformed_diagnostics_line_is_an_error_naming_the_file_and_line()
    {
        using var dir = new TestPaths.TempDir();
        var path = Path.Combine(dir.Path, CrossDiagnosticsLog.FileName);
        File.WriteAllText(path, CrossDiagnosticsLog.Header + "\n5,1,0,0.5,0.2,0.1\n5,1,x,0.5,0.2,0.1\n10,1,0,0.5,0.2,0.1\n");
        var e = Assert.Throws<InvalidDataException>(() => CrossDiagnosticsLog.ReadFrom(dir.Path));
        Assert.StartsWith($"{path}, line 3: ", e.Message);
        File.WriteAllText(path, CrossDiagnosticsLog.Header + "\n5,1,0,0.5,0.2,0.1\n5,1,1,0.5");   // cut by a kill: left out
        Assert.Single(CrossDiagnosticsLog.ReadFrom(dir.Path));
    }
}
