using StagNotebooks.Training;
using StagNotebooks.Workbench;

namespace StagNotebooks.Tests.Training;

/// <summary>Each arm at its own learning rate: the sweep's chosen rates, read back by the series (TunedRates, NotebookSession.Rates).</summary>
public class TunedRatesTests
{
    static readonly Dictionary<string, double> Chosen = new() { ["baseline-h"] = 6e-3, ["baseline-2h"] = 3e-3, ["separate-2xh"] = 1.5e-3, ["shared-2xh"] = 3e-3 };

    [Fact]
    public void An_arm_takes_its_own_rate_else_the_swept_variant_it_extends_or_its_families_else_none()
    {
        var t = new TunedRates("cpu-fidelity", 2, Chosen, "x");
        Assert.Equal("separate-2xh", t.SweptFor("separate-2xh"));
        Assert.Equal("separate-2xh", t.SweptFor("separate-2xh-w8"));          // extends it
        Assert.Equal("separate-2xh", t.SweptFor("separate-4xh"));             // the one swept variant of its family
        Assert.Equal("shared-2xh", t.SweptFor("shared-2xh-nonstaggered"));
        Assert.Null(t.SweptFor("baseline-3h"));                                // two swept baselines: no guess
        Assert.Null(t.SweptFor("wide-h"));                                     // a family nobody swept: the preset's rate
    }

    [Fact]
    public void The_rate_overrides_come_first_so_an_arms_own_rate_still_wins_and_the_minimum_keeps_the_presets_ratio()
    {
        var preset = Presets.Config("cpu-fidelity");   // peak 3e-3, minimum 3e-4
        var t = new TunedRates("cpu-fidelity", 2, Chosen, "x");
        var arm = t.Apply(preset, new TrainingArm("separate-2xh+cross-lr0.1", "separate-2xh", new[] { "CrossAttentionLrScale=0.1" }));
        Assert.Equal(3, arm.Overrides.Count);
        Assert.Equal("LearningRate=0.0015", arm.Overrides[0]);
        Assert.StartsWith("MinLearningRate=", arm.Overrides[1]);
        Assert.Equal("CrossAttentionLrScale=0.1", arm.Overrides[2]);
        var config = Presets.ConfigFor("cpu-fidelity", arm.Variant, 1024, 1, arm.Overrides);
        Assert.Equal(1.5e-3, config.LearningRate, 15);
        Assert.Equal(1.5e-4, config.MinLearningRate, 15);
        Assert.Equal(0.1, config.CrossAttentionLrScale);
        var own = t.Apply(preset, new TrainingArm("separate-2xh@lr0.006", "separate-2xh", new[] { "LearningRate=0.006", "MinLearningRate=0.0006" }));
        Assert.Equal(6e-3, Presets.ConfigFor("cpu-fidelity", own.Variant, 1024, 1, own.Overrides).LearningRate);
        Assert.Empty(t.Overrides(preset, "wide-h"));
    }

    [Fact]
    public void The_file_round_trips_the_sweep_with_most_seeds_is_read_and_a_corrupt_one_is_named()
    {
        using var dir = new TestPaths.TempDir();
        Assert.Null(TunedRates.For("cpu-fidelity", dir.Path));
        TunedRates.Write(dir.File("lr-sweep/cpu-fidelity-2seeds"), "cpu-fidelity", 2, Chosen);
        TunedRates.Write(dir.File("lr-sweep/cpu-fidelity-3seeds"), "cpu-fidelity", 3, new Dictionary<string, double> { ["baseline-h"] = 1e-3 });
        TunedRates.Write(dir.File("lr-sweep/cpu-fidelity-extra-4seeds"), "cpu-fidelity-extra", 4, Chosen);   // another preset's
        var read = TunedRates.For("cpu-fidelity", dir.Path)!;
        Assert.Equal((3, 1e-3), (read.Seeds, read.Rates["baseline-h"]));
        Assert.Equal(Chosen.OrderBy(kv => kv.Key), TunedRates.Read(dir.File("lr-sweep/cpu-fidelity-2seeds/chosen-rates.json")).Rates.OrderBy(kv => kv.Key));

        File.WriteAllText(dir.File("lr-sweep/cpu-fidelity-3seeds/chosen-rates.json"), "{ nope");
        var e = Assert.Throws<InvalidDataException>(() => TunedRates.For("cpu-fidelity", dir.Path));
        Assert.StartsWith(dir.File("lr-sweep/cpu-fidelity-3seeds/chosen-rates.json") + ": not a chosen-rates file", e.Message);
        File.WriteAllText(dir.File("lr-sweep/cpu-fidelity-3seeds/chosen-rates.json"), """{ "Preset": "cpu-fidelity", "Seeds": 3, "Rates": { "baseline-h": -1 } }""");
        e = Assert.Throws<InvalidDataException>(() => TunedRates.For("cpu-fidelity", dir.Path));
        Assert.EndsWith("the rate of baseline-h is -1, not a positive number", e.Message);
    }

    [Fact]
    public void A_notebook_session_trains_each_arm_at_the_rate_its_presets_sweep_chose()
    {
        using var dir = new TestPaths.TempDir();
        var session = NotebookSession.Open("03-training", "smoke", 1, "cpu", dir.File("runs"), dir.File("figures"));
        Assert.Null(session.Rates);
        TunedRates.Write(dir.File("figures/lr-sweep/smoke-2seeds"), "smoke", 2, new Dictionary<string, double> { ["baseline-h"] = 2e-2 });
        session = NotebookSession.Open("03-training", "smoke", 1, "cpu", dir.File("runs"), dir.File("figures"));
        Assert.NotNull(session.Rates);
        var trained = session.Train(new[] { new TrainingArm("baseline-h", "baseline-h", new[] { "MaxSteps=4", "EvalEvery=2", "CheckpointEvery=2" }),
                                            new TrainingArm("separate-2xh", "separate-2xh", new[] { "MaxSteps=4", "EvalEvery=2", "CheckpointEvery=2" }) });
        var smoke = Presets.Config("smoke");
        Assert.Equal(2e-2, trained[0].Seeds[0].Run.Config.LearningRate);
        Assert.Equal(smoke.MinLearningRate * 2e-2 / smoke.LearningRate, trained[0].Seeds[0].Run.Config.MinLearningRate, 12);
        Assert.Equal(smoke.LearningRate, trained[1].Seeds[0].Run.Config.LearningRate);   // no separate variant was swept: the preset's rate
    }
}
