using System.Globalization;
using Spectre.Console;
using StagNotebooks.Data;
using StagNotebooks.IO;
using StagNotebooks.Reporting;
using StagNotebooks.Training;
using StagNotebooks.Workbench;
using StagNotebooks.Experiments;

namespace StagNotebooks.Cli.Commands;

public sealed class BenchFidelitySearchCommand : ICommand
{
    public string Name => "bench fidelity-search";
    public string Summary => "budget search: where does baseline 2h beat h by ≥ 5 seed sd? (table + figure)";
    public string Usage => $"""
        stag bench fidelity-search [--preset cpu-fidelity] [--budget "name:Field=value;Field=value" ...] [--seeds 3]
                                   [--tokenizer <the preset's>] [--runs runs] [--out figures/fidelity-search/<preset>]
                                   [--dry-run] [--tokens-per-second 5000] [--device auto|cpu|cuda] [--threads N]

          Without --budget: {string.Join(", ", FidelitySearch.Defaults.Select(b => b.Name))}.
          A budget may name its data: "v1k:Tokenizer=brown-bpe-1k;MaxSteps=1500"; the others use --tokenizer.
          --dry-run prints the plan and its estimated time (at --tokens-per-second; `stag bench train` measures it)
          and trains nothing. Finished runs are reused, so an interrupted search resumes.
        """;
    public IEnumerable<string> Switches => new[] { "dry-run" };

    public int Run(CommandLine args)
    {
        var preset = args.Get("preset", "cpu-fidelity");
        var budgets = args.All("budget").Select(FidelityBudget.Parse).ToList();
        if (budgets.Count == 0) budgets = FidelitySearch.Defaults.ToList();
        int seeds = args.GetInt("seeds", 3);
        var tokenizer = args.Get("tokenizer", Presets.Tokenizer(preset));
        var runs = args.Get("runs");
        var output = args.Get("out", Path.Combine(RepoPaths.Figures, "fidelity-search", FigureFolder.Leaf(preset, seeds)));
        bool dry = args.Flag("dry-run");
        double tps = args.GetDouble("tokens-per-second", 5000);
        var device = args.Get("device", "auto");
        CommonOptions.ApplyThreads(args);
        args.RejectUnknown();

        // --tokenizer is the data of budgets that name none (Tokenizer=… in a budget picks its own).
        budgets = budgets.Select(b => b with { Tokenizer = b.Tokenizer ?? tokenizer }).ToList();
        var data = budgets.Select(b => b.Tokenizer!).Distinct().ToDictionary(t => t, t => ExperimentRuns.Data(t, Console.Error.WriteLine));
        int VocabOf(string t) => data[t].Manifest.VocabSize;
        var plan = FidelitySearch.Plan(preset, budgets, seeds, VocabOf);
        double estimate = FidelitySearch.EstimateSeconds(plan, tps);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{plan.Count} models ({budgets.Count} budgets × 2 baselines × {seeds} seeds), {plan.Sum(p => (double)p.Config.TotalSteps * p.Config.TokensPerStep) / 1e6:F0}M training tokens: about {estimate / 3600:F1} h at {tps:F0} tok/s"));
        if (dry)
        {
            foreach (var b in budgets) Console.WriteLine($"  {b.Name}: {(b.Overrides.Count == 0 ? "(the preset as is)" : string.Join(" ", b.Overrides))} on {b.Tokenizer}");
            return 0;
        }
        var provenance = Provenance.Of(preset, seeds, "stag bench fidelity-search");   // the commit the models are trained with
        var rows = FidelitySearch.Run(preset, budgets, seeds, VocabOf, (config, variant, tok) =>
        {
            var r = ExperimentRuns.Train(config, variant, data[tok], runs, device: device);
            // The run's own training clock (kept across resumes), so a reused run reports what it cost when it trained.
            return (r.BestValLoss ?? double.NaN, r.Metrics.Count > 0 ? r.Metrics[^1].ElapsedSeconds : double.NaN);
        }, Console.WriteLine);
        FigureWriter.SaveTable(FidelityReport.Table(rows), output, "budget-gap", provenance);
        FigureWriter.SaveChart(FidelityReport.Chart(rows), output, "budget-gap", provenance);
        var t = new Table().Border(TableBorder.Rounded);
        foreach (var c in new[] { "budget", "shape", "tokens", "h", "2h", "gap", "gap / sd", "resolved" }) t.AddColumn(c);
        foreach (var r in rows)
            t.AddRow(r.Budget, r.Shape, $"{r.TokensPerModel / 1e6:F1}M", r.H.ToString(), r.TwoH.ToString(), $"{r.Gap:F4}", $"{r.Resolution:F1}", r.Resolved ? "yes" : "no");
        AnsiConsole.Write(t);
        var best = FidelitySearch.Cheapest(rows);
        Console.WriteLine(best is null ? $"no budget resolves depth by {FidelitySearch.RequiredResolution} sd" : $"cheapest resolved budget: {best.Budget} ({best.Shape}, {best.Steps} steps)");
        Console.WriteLine($"table and figure: {output}");
        return 0;
    }
}
