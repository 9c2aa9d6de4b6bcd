using Spectre.Console;
using StagNotebooks.Training;
using StagNotebooks.Benchmarks;
using StagNotebooks.Data;
using StagNotebooks.Evaluation;
using StagNotebooks.Evaluation.Synthetic;
using StagNotebooks.IO;
using StagNotebooks.Reporting;
using StagNotebooks.Runtime;
using StagNotebooks.Experiments;

namespace StagNotebooks.Cli.Commands;

public sealed class SynthCommand : ICommand
{
    public string Name => "synth";
    public string Summary => "synthetic-task suite: answer accuracy of each variant on tasks of known composition depth";
    public string Usage => $"""
        stag synth [--task {string.Join(",", SyntheticTaskSpec.Defaults)}] [--variant {string.Join(",", SyntheticBench.Variants)}]
                   [--seeds 3] [--preset synth-small] [--set Field=value ...] [--eval-batches 8]
                   [--runs runs/synthetic] [--out figures/synthetic/<preset>] [--device auto|cpu|cuda] [--threads N]

          --task     induction, recall, pointer-K (K hops), compose-K (K chained functions); comma-separated
          --variant  the compared models; shared-2xh-recurrent scores shared-2xh token by token with the recurrent decoder
          --preset   {Presets.Help(PresetKind.Synthetic, new string(' ', 13))}
        Writes accuracy.csv/.md (one row per task × variant, per-seed values), matrix.md (variants × tasks)
        and verdicts.csv/.md into --out, each naming the preset, seeds and commit. Finished runs are reused.
        """;

    public int Run(CommandLine args)
    {
        var tasks = args.Get("task", string.Join(",", SyntheticTaskSpec.Defaults)).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var variants = args.Get("variant", string.Join(",", SyntheticBench.Variants)).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        int seeds = args.GetInt("seeds", 3);
        var preset = args.Get("preset", "synth-small");
        var sets = args.All("set");
        int evalBatches = args.GetInt("eval-batches", 8);
        var runs = args.Get("runs", Path.Combine(RepoPaths.Runs, "synthetic"));
        var output = args.Get("out", Path.Combine(RepoPaths.Figures, "synthetic", preset));
        var device = TorchRuntime.ResolveDevice(args.Get("device", "auto"));
        CommonOptions.ApplyThreads(args);
        args.RejectUnknown();
        if (seeds < 1) throw new CliException($"--seeds must be at least 1 (got {seeds})");
        foreach (var task in tasks) SyntheticTaskSpec.Parse(task);   // fail before training anything
        foreach (var v in variants) SyntheticBench.Config(preset, v, 1, sets);

        var provenance = Provenance.Of(preset, seeds, "stag synth");   // the commit the models are trained with
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var results = SyntheticBench.RunAll(tasks, variants, seeds, preset, runs, device, evalBatches, sets, Console.WriteLine);
        var table = SyntheticReport.Table(results);
        var matrix = SyntheticReport.Matrix(results);
        var verdicts = VerdictTable.Of(SyntheticBench.Verdicts(results));
        FigureWriter.SaveTable(table, output, "accuracy", provenance);
        FigureWriter.SaveTable(matrix, output, "matrix", provenance);
        FigureWriter.SaveTable(verdicts, output, "verdicts", provenance);

        var t = new Table().Border(TableBorder.Rounded).Title($"answer accuracy, mean ± sd over {seeds} seed(s) — {provenance.Line}");
        foreach (var c in matrix.Columns) t.AddColumn(c.Name);
        for (long r = 0; r < matrix.Rows.Count; r++) t.AddRow(matrix.Columns.Select(c => Markup.Escape(c[r]?.ToString() ?? "")).ToArray());
        AnsiConsole.Write(t);
        foreach (var v in SyntheticBench.Verdicts(results)) Console.WriteLine(v);
        Console.WriteLine($"\n{results.Count} scored models in {clock.Elapsed.TotalMinutes:F1} min; tables in {output}");
        return 0;
    }
}
