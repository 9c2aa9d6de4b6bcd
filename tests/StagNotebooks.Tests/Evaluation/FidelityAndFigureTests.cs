using Microsoft.Data.Analysis;
using StagNotebooks.Model;
using StagNotebooks.Reporting;
using StagNotebooks.Training;
using StagNotebooks.Workbench;
using StagNotebooks.Experiments;

namespace StagNotebooks.Tests.Evaluation;

public class FidelityAndFigureTests
{
    [Fact]
    public void The_default_search_plan_validates_and_keeps_2h_twice_h()
    {
        var plan = FidelitySearch.Plan("cpu-fidelity", FidelitySearch.Defaults, seeds: 3, vocab: 4096);
        Assert.Equal(FidelitySearch.Defaults.Count * 2 * 3, plan.Count);
        foreach (var g in plan.GroupBy(p => (p.Budget.Name, p.Seed)))
        {
            var h = g.Single(p => p.Variant == "baseline-h").Config;
            var h2 = g.Single(p => p.Variant == "baseline-2h").Config;
            Assert.Equal(1, h.Model.Stacks);
            Assert.Equal(2 * h.Model.LayersPerStack, h2.Model.LayersPerStack);
            Assert.Equal(h.TotalSteps, h2.TotalSteps);
            Assert.Equal(h.ContextLength, h2.ContextLength);
        }
        Assert.Equal(1500, plan.First(p => p.Budget.Name == "V4096-h1-steps1500").Config.MaxSteps);
        Assert.Equal(4, plan.First(p => p.Budget.Name == "V4096-h2-steps600" && p.Variant == "baseline-2h").Config.Model.LayersPerStack);
        Assert.All(FidelitySearch.Defaults, b => Assert.StartsWith(b.Tokenizer == "brown-bpe-1k" ? "V1024-" : "V4096-", b.Name));
        // The estimate is tokens / rate: 2 × 3 models of each budget.
        double tokens = plan.Sum(p => (double)p.Config.TotalSteps * p.Config.TokensPerStep);
        Assert.Equal(tokens / 5000, FidelitySearch.EstimateSeconds(plan, 5000), 6);
        Assert.Throws<ArgumentException>(() => FidelitySearch.Plan("cpu-fidelity", FidelitySearch.Defaults, seeds: 1, vocab: 4096));
    }

    [Fact]
    public void The_budget_that_is_the_preset_trains_exactly_the_runs_the_notebooks_train_at_that_preset()
    {
        // Same config ⇒ same run id ⇒ the search's baselines are reused by notebook 03 at cpu-fidelity, not retrained.
        var vocab = new Dictionary<string, int> { ["brown-bpe"] = 4096, ["brown-bpe-1k"] = 1024 };
        int presetVocab = vocab[Presets.Tokenizer("cpu-fidelity")];
        var plan = FidelitySearch.Plan("cpu-fidelity", FidelitySearch.Defaults.Append(new FidelityBudget("as-is", Array.Empty<string>())), seeds: 2, t => vocab[t]);
        foreach (var (budget, variant, seed, config) in plan.Where(p => p.Budget.Name == "as-is"))
            Assert.Equal(ExperimentRuns.Config("cpu-fidelity", variant, presetVocab, seed).ToJson(), config.ToJson());
        // The preset is one of the searched budgets, on its own tokenizer: its runs are the search's.
        var preset = ExperimentRuns.Config("cpu-fidelity", "baseline-h", presetVocab, 1).ToJson();
        Assert.Contains(plan, p => p.Budget.Name != "as-is" && p.Variant == "baseline-h" && p.Config.ToJson() == preset
                                   && p.Budget.Tokenizer == Presets.Tokenizer("cpu-fidelity"));
        // A depth override keeps 2h twice h and differs from the preset's run only in that field.
        var deeper = FidelitySearch.Plan("cpu-fidelity", new[] { FidelityBudget.Parse("h3:Model.LayersPerStack=3") }, seeds: 2, vocab: 4096);
        var h2 = deeper.First(p => p.Variant == "baseline-2h").Config;
        Assert.Equal(6, h2.Model.LayersPerStack);
        Assert.Equal((ExperimentRuns.Config("cpu-fidelity", "baseline-2h", 4096, 1) with { Model = h2.Model }).ToJson(), h2.ToJson());
    }

    [Fact]
    public void A_budget_names_its_tokenizer_and_trains_at_that_vocabulary_the_others_at_the_presets()
    {
        var v1k = FidelityBudget.Parse("v1k:Tokenizer=brown-bpe-1k;MaxSteps=1500");
        Assert.Equal("brown-bpe-1k", v1k.Tokenizer);
        Assert.Equal(new[] { "MaxSteps=1500" }, v1k.Overrides);
        var plain = FidelityBudget.Parse("steps900:MaxSteps=900");
        Assert.Null(plain.Tokenizer);
        Assert.Equal(Presets.Tokenizer("cpu-fidelity"), plain.TokenizerFor("cpu-fidelity"));
        var vocab = new Dictionary<string, int> { ["brown-bpe"] = 4096, ["brown-bpe-1k"] = 1024 };
        var plan = FidelitySearch.Plan("cpu-fidelity", new[] { v1k, plain with { Tokenizer = "brown-bpe" } }, seeds: 2, t => vocab[t]);
        Assert.All(plan.Where(p => p.Budget.Name == "v1k"), p => Assert.Equal(1024, p.Config.Model.VocabSize));
        Assert.All(plan.Where(p => p.Budget.Name == "steps900"), p => Assert.Equal(4096, p.Config.Model.VocabSize));
        Assert.StartsWith("V1024 d128 ", FidelitySearch.Summarize(v1k, plan[0].Config, new[] { 3.0, 3.1 }, new[] { 2.9, 3.0 }, 60).Shape);
        var e = Assert.Throws<ConfigException>(() => Presets.Tokenizer("cpu-huge"));
        Assert.StartsWith("config field preset: unknown preset 'cpu-huge'; known: smoke, cpu-small, cpu-fidelity", e.Message);
    }

    [Fact]
    public void A_smoke_search_with_a_fake_trainer_finds_the_resolved_budget_and_writes_a_stamped_table_and_figure()
    {
        FigureWriter.RenderPngs = false;
        var budgets = new[] { FidelityBudget.Parse("noisy:MaxSteps=10"), FidelityBudget.Parse("clean:MaxSteps=20") };
        // Fake losses: 2h is 0.1 better everywhere; seed noise is 0.2 on "noisy" and 0.001 on "clean".
        var rows = FidelitySearch.Run("smoke", budgets, seeds: 3, vocab: 31, (c, v) =>
        {
            double noise = (c.Seed - 2) * (c.MaxSteps == 10 ? 0.2 : 0.001);
            return ((v == "baseline-2h" ? 4.9 : 5.0) + noise * (v == "baseline-2h" ? 1 : -1), 1.0);
        });
        Assert.Equal(2, rows.Count);
        Assert.False(rows[0].Resolved);
        Assert.True(rows[1].Resolved);
        Assert.Equal(0.1, rows[1].Gap, 9);
        Assert.Equal("clean", FidelitySearch.Cheapest(rows)!.Budget);

        using var dir = new TestPaths.TempDir();
        var folder = FigureFolder.For(dir.Path, "fidelity", "smoke", 3);
        Assert.EndsWith(Path.Combine("fidelity", "smoke-3seeds"), folder.Path);
        Figures.Save(FidelityReport.Table(rows), folder, "budget-gap");
        var chart = Figures.Save(FidelityReport.Chart(rows), folder, "budget-gap");
        var md = File.ReadAllText(Path.Combine(folder.Path, "budget-gap.md"));
        Assert.Contains("preset smoke · 3 seeds · commit ", md);
        Assert.Contains(folder.Provenance.Line, File.ReadAllText(Path.Combine(folder.Path, "budget-gap.html")));
        var meta = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder.Path, "budget-gap.meta.json"))).RootElement;
        Assert.Equal("smoke", meta.GetProperty("preset").GetString());
        Assert.Equal(3, meta.GetProperty("seeds").GetInt32());
        Assert.False(string.IsNullOrEmpty(meta.GetProperty("commit").GetString()));
        // The CSV stays machine-readable: header plus one line per budget.
        Assert.Equal(3, File.ReadAllLines(Path.Combine(folder.Path, "budget-gap.csv")).Length);
        // Saving twice does not stack subtitles.
        Figures.Save(chart, folder, "budget-gap");
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(FigureWriter.FigureHtml(chart, standalone: false, includePlotlyJs: false), System.Text.RegularExpressions.Regex.Escape(folder.Provenance.Line)));
    }

    [Fact]
    public void Presets_get_their_own_folders_so_a_smoke_run_cannot_overwrite_the_default()
    {
        using var dir = new TestPaths.TempDir();
        var table = new DataFrame(new StringDataFrameColumn("x", new[] { "a" }));
        Figures.Save(table, Figures.Folder("03-training", "cpu-small", 1, dir.Path), "final");
        Figures.Save(new DataFrame(new StringDataFrameColumn("x", new[] { "smoke" })), Figures.Folder("03-training", "smoke", 1, dir.Path), "final");
        Assert.Contains("| a |", File.ReadAllText(Path.Combine(dir.Path, "03-training", "cpu-small", "final.md")));
        Assert.Contains("| smoke |", File.ReadAllText(Path.Combine(dir.Path, "03-training", "smoke", "final.md")));
        Assert.Throws<ArgumentException>(() => FigureFolder.Leaf("../x", 1));
        Assert.Throws<ArgumentException>(() => FigureFolder.Leaf("cpu-small", 0));
    }
}
