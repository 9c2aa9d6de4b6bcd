using System.Globalization;
using StagNotebooks.IO;
using StagNotebooks.Reporting;
using StagNotebooks.Training;
using StagNotebooks.Workbench;
using StagNotebooks.Experiments;

namespace StagNotebooks.Cli.Commands;

public sealed class BenchLrSweepCommand : ICommand
{
    public string Name => "bench lr-sweep";
    public string Summary => "each arm's own learning rate: every variant at every peak rate on held-out seeds (table + figure)";
    public string Usage => $"""
        stag bench lr-sweep [--preset cpu-judge] [--variant baseline-h,baseline-2h,separate-2xh,shared-2xh]
                            [--rates <preset's ×0.5,×1,×2>] [--seeds 2] [--runs runs] [--out figures/lr-sweep/<preset>-<N>seeds]
                            [--dry-run] [--device auto|cpu|cuda] [--threads N] [--concurrency auto|N]

          Seeds {LearningRateSweep.FirstSeed}, {LearningRateSweep.FirstSeed + 1}, …: held out from the judged series (seeds 1, 2, 3), so the choice
          of a rate does not see the seeds its claims are judged on. The minimum rate keeps the preset's ratio.
          Writes lr-sweep.md/csv (the chosen rate per variant), the loss-vs-rate chart and chosen-rates.json, which the
          notebooks read: at this preset every arm then trains at the rate chosen for its variant (or the swept variant
          it extends or shares a family with; TunedRates). Finished runs are reused.
        """;
    public IEnumerable<string> Switches => new[] { "dry-run" };

    public int Run(CommandLine args)
    {
        var preset = args.Get("preset", Presets.Judging);
        Presets.Config(preset);
        var variants = args.Get("variant", "baseline-h,baseline-2h,separate-2xh,shared-2xh").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        foreach (var v in variants)
            if (!StagNotebooks.Model.ModelVariants.Names.Contains(v))
                throw new CliException($"--variant: unknown variant '{v}'; known: {string.Join(", ", StagNotebooks.Model.ModelVariants.Names)}");
        var rates = args.Get("rates") is { } text
            ? text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(s =>
                double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var r) && r > 0 ? r
                    : throw new CliException($"--rates: '{s}' is not a positive number (expected e.g. 1.5e-3,3e-3,6e-3)")).ToList()
            : LearningRateSweep.DefaultRates(preset).ToList();
        int seeds = args.GetInt("seeds", 2);
        var runs = args.Get("runs");
        var output = args.Get("out", Path.Combine(RepoPaths.Figures, "lr-sweep", FigureFolder.Leaf(preset, seeds)));
        bool dry = args.Flag("dry-run");
        var device = args.Get("device", "auto");
        int concurrency = CommonOptions.Concurrency(args);
        CommonOptions.ApplyThreads(args);
        args.RejectUnknown();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{variants.Length * rates.Count * seeds} models: {string.Join(", ", variants)} at peak rates {string.Join(", ", rates.Select(r => r.ToString("G3", CultureInfo.InvariantCulture)))}, seeds {LearningRateSweep.FirstSeed}–{LearningRateSweep.FirstSeed + seeds - 1}"));
        var data = ExperimentRuns.DataFor(preset, Console.Error.WriteLine);
        if (dry)
        {
            var arms = variants.SelectMany(v => rates.Select(r => LearningRateSweep.Arm(preset, v, r)));
            Console.WriteLine(ExperimentRuns.Plan(preset, arms, seeds, data, runs, device, LearningRateSweep.FirstSeed, concurrency));
            return 0;
        }
        var provenance = Provenance.Of(preset, seeds, "stag bench lr-sweep");
        var cells = LearningRateSweep.Run(preset, variants, rates, seeds, data, runs, Console.WriteLine, device, concurrency);
        var table = SweepReport.Table(cells);
        FigureWriter.SaveTable(table, output, "lr-sweep", provenance);
        FigureWriter.SaveChart(SweepReport.Chart(cells), output, "lr-sweep", provenance);
        var chosen = TunedRates.Write(output, preset, seeds, LearningRateSweep.Best(cells));   // what the series at this preset trains each arm at
        Console.WriteLine(FigureWriter.Markdown(table));
        Console.WriteLine(chosen);
        Console.WriteLine($"table and figure: {output}");
        return 0;
    }
}
