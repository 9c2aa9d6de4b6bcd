using System.Globalization;
using StagNotebooks.IO;
using StagNotebooks.Reporting;
using StagNotebooks.Training;
using StagNotebooks.Workbench;
using StagNotebooks.Experiments;

namespace StagNotebooks.Cli.Commands;

public sealed class BenchLadderCommand : ICommand
{
    public string Name => "bench ladder";
    public string Summary => "the regime ladder: StagFormer's gaps to baseline 2h and h at h = 1, 2, 3, … layers per stack (table + figure)";
    public string Usage => """
        stag bench ladder [--preset cpu-fidelity] [--h 1,2,3] [--seeds 3] [--runs runs] [--out figures/ladder/<preset>-<N>seeds]
                          [--dry-run] [--device auto|cpu|cuda] [--threads N] [--concurrency auto|N]

          Trains baseline h, baseline 2h, separate 2×h and shared 2×h at every h on the preset's data, budget and
          recipe (only the depth changes), then writes the paired gaps with 95% intervals (ladder.md/csv) and the
          gap-vs-h chart. A rung equal to the preset shares its runs with the notebooks; finished runs are reused.
        """;
    public IEnumerable<string> Switches => new[] { "dry-run" };

    public int Run(CommandLine args)
    {
        var preset = args.Get("preset", "cpu-fidelity");
        var hs = ParseInts(args.Get("h", "1,2,3"), "--h");
        int seeds = args.GetInt("seeds", 3);
        var runs = args.Get("runs");
        var output = args.Get("out", Path.Combine(RepoPaths.Figures, "ladder", FigureFolder.Leaf(preset, seeds)));
        bool dry = args.Flag("dry-run");
        var device = args.Get("device", "auto");
        int concurrency = CommonOptions.Concurrency(args);
        CommonOptions.ApplyThreads(args);
        args.RejectUnknown();
        Presets.Config(preset);   // an unknown preset is named before anything else
        Console.WriteLine($"{hs.Count * RegimeLadder.Variants.Count * seeds} models: {string.Join(", ", RegimeLadder.Variants)} at h = {string.Join(", ", hs)}, {seeds} seed(s), preset {preset}");
        var data = ExperimentRuns.DataFor(preset, Console.Error.WriteLine);
        if (dry)
        {
            Console.WriteLine(ExperimentRuns.Plan(preset, hs.SelectMany(RegimeLadder.Arms), seeds, data, runs, device, concurrency: concurrency));
            return 0;
        }
        var provenance = Provenance.Of(preset, seeds, "stag bench ladder");
        var rungs = RegimeLadder.Run(preset, hs, seeds, data, runs, Console.WriteLine, device, concurrency);
        FigureWriter.SaveTable(LadderReport.Table(rungs), output, "ladder", provenance);
        FigureWriter.SaveChart(LadderReport.Chart(rungs), output, "gap-vs-h", provenance);
        Console.WriteLine(FigureWriter.Markdown(LadderReport.Table(rungs)));
        Console.WriteLine($"table and figure: {output}");
        return 0;
    }

    public static IReadOnlyList<int> ParseInts(string text, string option) =>
        text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(s =>
            int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 1 ? v
                : throw new CliException($"{option}: '{s}' is not a positive integer (expected e.g. 1,2,3)")).ToList();
}
