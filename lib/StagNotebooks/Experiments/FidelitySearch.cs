using System.Globalization;
using StagNotebooks.Evaluation;
using StagNotebooks.Model;
using StagNotebooks.Training;

namespace StagNotebooks.Experiments;

/// <summary>
/// One budget of the search: a name, the overrides it applies to the base preset, and the tokenizer of its data
/// (null: the preset's). The vocabulary is part of the budget because the unembedding and softmax are most of a
/// small model's CPU step.
/// </summary>
public sealed record FidelityBudget(string Name, IReadOnlyList<string> Overrides, string? Tokenizer = null)
{
    public static FidelityBudget Parse(string spec)
    {
        // "name:Field=value;Field=value" or just "Field=value;…" (the overrides name the budget); "Tokenizer=…" picks the data.
        int colon = spec.IndexOf(':');
        var name = colon > 0 ? spec[..colon] : spec;
        var overrides = (colon > 0 ? spec[(colon + 1)..] : spec).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(o => o.Contains('=')).ToList();
        var tokenizer = overrides.LastOrDefault(o => o.StartsWith("Tokenizer=", StringComparison.Ordinal))?["Tokenizer=".Length..];
        return new FidelityBudget(name, overrides.Where(o => !o.StartsWith("Tokenizer=", StringComparison.Ordinal)).ToList(), tokenizer);
    }

    /// <summary>The tokenizer this budget trains on: its own, or <paramref name="preset"/>'s.</summary>
    public string TokenizerFor(string preset) => Tokenizer ?? Presets.Tokenizer(preset);
}

/// <summary>What one budget resolves: baseline h vs 2h over seeds, the gap in pooled sd and whether it reaches the bar.</summary>
public sealed record FidelityRow(string Budget, string Shape, int Steps, long TokensPerModel, ArmStats H, ArmStats TwoH,
                                 double Gap, double PooledSd, double Resolution, bool Resolved, double SecondsPerModel);

/// <summary>
/// The budget search of issue 15: the cheapest CPU budget and shape at which doubling the depth (baseline 2h vs h) is
/// resolved by at least <see cref="RequiredResolution"/> pooled seed sd of best validation loss. Every budget trains
/// both baselines for every seed through a caller-supplied trainer (the command passes <see cref="ExperimentRuns.Train"/>).
/// </summary>
public static class FidelitySearch
{
    public const double RequiredResolution = 5.0;

    /// <summary>
    /// The budgets of the search, each naming its vocabulary and shape in full so it is the same budget whatever the
    /// preset: on the 4096-token BPE, one layer per stack for 600 and 1500 steps and two for 600; on the 1024-token
    /// BPE (a quarter of the unembedding and softmax, most of a small model's CPU step), one and two layers per stack
    /// for 1500 steps. figures/fidelity-search/ has the table. Add others with --budget, e.g.
    /// "lr1e-3:LearningRate=1e-3;MinLearningRate=1e-4".
    /// </summary>
    public static readonly IReadOnlyList<FidelityBudget> Defaults = new[]
    {
        new FidelityBudget("V4096-h1-steps600", new[] { "Model.LayersPerStack=1", "MaxSteps=600" }, "brown-bpe"),
        new FidelityBudget("V4096-h1-steps1500", new[] { "Model.LayersPerStack=1", "MaxSteps=1500" }, "brown-bpe"),
        new FidelityBudget("V4096-h2-steps600", new[] { "Model.LayersPerStack=2", "MaxSteps=600" }, "brown-bpe"),
        new FidelityBudget("V1024-h1-steps1500", new[] { "Model.LayersPerStack=1", "MaxSteps=1500" }, "brown-bpe-1k"),
        new FidelityBudget("V1024-h2-steps1500", new[] { "Model.LayersPerStack=2", "MaxSteps=1500" }, "brown-bpe-1k"),
    };

    public static readonly IReadOnlyList<string> Arms = new[] { "baseline-h", "baseline-2h" };

    /// <summary>Every (budget, arm, seed) config, validated up front so a typo fails before hours of training.</summary>
    public static IReadOnlyList<(FidelityBudget Budget, string Variant, long Seed, TrainConfig Config)> Plan(string preset, IEnumerable<FidelityBudget> budgets, int seeds, int vocab) =>
        Plan(preset, budgets, seeds, _ => vocab);

    /// <summary>As above, the vocabulary of each budget's tokenizer from <paramref name="vocabOf"/>.</summary>
    public static IReadOnlyList<(FidelityBudget Budget, string Variant, long Seed, TrainConfig Config)> Plan(string preset, IEnumerable<FidelityBudget> budgets, int seeds, Func<string, int> vocabOf)
    {
        if (seeds < 2) throw new ArgumentException($"the search needs at least 2 seeds for a standard deviation (got {seeds})");
        return budgets.SelectMany(b => Arms.SelectMany(v => Enumerable.Range(1, seeds).Select(s =>
        {
            // ExperimentRuns.Config names the preset in the config, so the budget that equals the preset shares its runs
            // with `stag train`/`stag reproduce` at that preset (a run's id is its config).
            var overridden = ExperimentRuns.Config(preset, v, vocabOf(b.TokenizerFor(preset)), s, b.Overrides);
            // Model overrides apply after the variant: baseline-2h must stay twice baseline-h.
            if (v == "baseline-2h" && b.Overrides.Any(o => o.StartsWith("Model.LayersPerStack", StringComparison.Ordinal)))
                overridden = overridden with { Model = overridden.Model with { LayersPerStack = 2 * overridden.Model.LayersPerStack } };
            return (b, v, (long)s, overridden.Validate());
        }))).ToList();
    }

    /// <summary>Seconds the plan takes at <paramref name="tokensPerSecond"/> (training only; `stag bench train` measures it).</summary>
    public static double EstimateSeconds(IEnumerable<(FidelityBudget Budget, string Variant, long Seed, TrainConfig Config)> plan, double tokensPerSecond) =>
        plan.Sum(x => (double)x.Config.TotalSteps * x.Config.TokensPerStep) / tokensPerSecond;

    public static FidelityRow Summarize(FidelityBudget budget, TrainConfig hConfig, IReadOnlyList<double> h, IReadOnlyList<double> twoH, double secondsPerModel)
    {
        var a = ArmStats.Of("baseline-h", h);
        var b = ArmStats.Of("baseline-2h", twoH);
        var (pooled, resolution) = SampleStatistics.PooledGap(h, twoH);   // h − 2h: positive when depth helps
        var m = hConfig.Model;
        string shape = $"V{m.VocabSize} d{m.DModel} h{m.LayersPerStack} ctx{hConfig.ContextLength} b{hConfig.BatchSize} lr{hConfig.LearningRate.ToString("G2", CultureInfo.InvariantCulture)}";
        return new FidelityRow(budget.Name, shape, hConfig.TotalSteps, hConfig.TotalSteps * hConfig.TokensPerStep, a, b, a.Mean - b.Mean, pooled, resolution,
                               resolution > RequiredResolution, secondsPerModel);
    }

    /// <summary>Runs the plan. <paramref name="train"/> returns a run's best validation loss and its training seconds.</summary>
    public static IReadOnlyList<FidelityRow> Run(string preset, IEnumerable<FidelityBudget> budgets, int seeds, int vocab,
                                                 Func<TrainConfig, string, (double BestValLoss, double Seconds)> train, Action<string>? log = null) =>
        Run(preset, budgets, seeds, _ => vocab, (c, v, _) => train(c, v), log);

    /// <summary>As above, each budget on its own tokenizer's data: <paramref name="train"/> gets the tokenizer too.</summary>
    public static IReadOnlyList<FidelityRow> Run(string preset, IEnumerable<FidelityBudget> budgets, int seeds, Func<string, int> vocabOf,
                                                 Func<TrainConfig, string, string, (double BestValLoss, double Seconds)> train, Action<string>? log = null)
    {
        var plan = Plan(preset, budgets, seeds, vocabOf);
        var results = plan.Select(x =>
        {
            var (loss, seconds) = train(x.Config, x.Variant, x.Budget.TokenizerFor(preset));
            log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"{x.Budget.Name} {x.Variant} seed {x.Seed}: best val loss {loss:F4} ({seconds:F0} s)"));
            return (x.Budget, x.Variant, x.Config, Loss: loss, Seconds: seconds);
        }).ToList();
        return results.GroupBy(r => r.Budget.Name).Select(g => Summarize(g.First().Budget,
            g.First(r => r.Variant == "baseline-h").Config,
            g.Where(r => r.Variant == "baseline-h").Select(r => r.Loss).ToList(),
            g.Where(r => r.Variant == "baseline-2h").Select(r => r.Loss).ToList(),
            g.Average(r => r.Seconds))).ToList();
    }

    /// <summary>
    /// The cheapest resolved budget (fewest seconds per model, then fewest training tokens), or null. Seconds, not
    /// tokens: a token of a smaller vocabulary costs less.
    /// </summary>
    public static FidelityRow? Cheapest(IEnumerable<FidelityRow> rows) =>
        rows.Where(r => r.Resolved).OrderBy(r => r.SecondsPerModel).ThenBy(r => r.TokensPerModel).FirstOrDefault();
}
