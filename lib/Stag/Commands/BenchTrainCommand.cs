using System.Text.Json;
using Spectre.Console;
using StagNotebooks.Benchmarks;
using StagNotebooks.IO;
using StagNotebooks.Runtime;
using StagNotebooks.Training;

namespace StagNotebooks.Cli.Commands;

public sealed class BenchTrainCommand : ICommand
{
    public string Name => "bench train";
    public string Summary => "training step time, tokens/s, MFU and resident-memory growth per variant";
    public string Usage => """
        stag bench train [--preset cpu-small] [--variants baseline-h,baseline-2h,separate-2xh,shared-2xh]
                         [--steps 1000] [--early-step 100] [--device auto|cpu|cuda] [--threads N] [--json] [--out file.json]
        stag bench train --concurrency 1,2 [--preset cpu-fidelity] [--variants …] [--seeds 1] [--steps N] [--repeats 1] [--runs runs]

          MFU divides model FLOPs/s by the fp32 GEMM peak measured at start (as stag doctor does).
          Resident memory is read at --early-step and at the last step: growth should stay under 5%.
          --concurrency  train the same runs (variants × seeds, real data, from empty folders) at each level: runs side
                         by side in worker processes sharing the cores; prints wall time, runs per hour, the speed-up and
                         whether every run's final weights and optimizer state are byte-identical to the first level's.
                         The fastest identical level is recorded in <runs>/concurrency.json, which a series run with
                         concurrency auto (stag reproduce's default) reads. --steps: the preset's when not given.
                         --repeats: the levels alternate (1,2,2,1,…) and the median wall time counts.
        """;
    public IEnumerable<string> Switches => new[] { "json" };

    public int Run(CommandLine args)
    {
        if (args.Has("concurrency")) return RunConcurrency(args);
        var preset = args.Get("preset", "cpu-small");
        var variants = args.Get("variants", "baseline-h,baseline-2h,separate-2xh,shared-2xh").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        int steps = args.GetInt("steps", 1000), early = args.GetInt("early-step", 100);
        var deviceSpec = args.Get("device", "auto");
        bool json = args.Flag("json");
        var outPath = args.Get("out");
        CommonOptions.ApplyThreads(args);
        args.RejectUnknown();
        if (early >= steps) throw new CliException($"--early-step {early} must be below --steps {steps}");

        var device = TorchRuntime.ResolveDevice(deviceSpec);
        var roof = Roofline.Measure(device);
        if (!json) Console.WriteLine($"roofline: {roof.GemmGflops:F1} GFLOP/s fp32 GEMM on {roof.Device}, {roof.Threads} threads");
        var results = TrainBenchmark.Run(preset, variants, steps, early, device, roof.GemmGflops, log: json ? null : Console.WriteLine);
        var text = JsonSerializer.Serialize(new { roofline = roof, results }, new JsonSerializerOptions { WriteIndented = true });
        if (outPath != null) AtomicFile.WriteAllText(outPath, text);
        if (json) { Console.WriteLine(text); return 0; }
        var t = new Table().Border(TableBorder.Rounded);
        foreach (var col in new[] { "variant", "step ms", "tokens/s", "MFU", "× baseline-2h", $"resident growth (step {early}→{steps})" }) t.AddColumn(col);
        foreach (var r in results)
            t.AddRow(r.Variant, $"{r.StepMedianMs:F1}", $"{r.TokensPerSecond:F0}", $"{r.Mfu:P1}", $"{r.RatioToBaseline:F2}", $"{r.ResidentGrowth:P1}");
        AnsiConsole.Write(t);
        return 0;
    }

    static int RunConcurrency(CommandLine args)
    {
        var preset = args.Get("preset", "cpu-fidelity");
        var variants = args.Get("variants", "baseline-h,baseline-2h,separate-2xh,shared-2xh").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var levels = args.Get("concurrency", "1,2").Split(',').Select(x => int.TryParse(x, out var n) && n >= 1 ? n
            : throw new CliException($"option --concurrency: '{x}' is not a whole number ≥ 1")).ToList();
        int seeds = args.GetInt("seeds", 1);
        int? steps = args.Has("steps") ? args.GetInt("steps", 0) : null;
        var runs = args.Get("runs", RepoPaths.Runs);
        var device = args.Get("device", "cpu");
        int repeats = args.GetInt("repeats", 1);
        args.RejectUnknown();
        if (repeats < 1) throw new CliException($"option --repeats: must be at least 1 (got {repeats})");
        var scratch = Path.Combine(Path.GetTempPath(), "stag-bench-concurrency");
        var results = ConcurrencyBenchmark.Run(preset, variants, seeds, steps, levels, device, scratch, Console.WriteLine, repeats);
        var t = new Table().Border(TableBorder.Rounded);
        foreach (var col in new[] { "runs at once", "wall s (median)", "each repeat", "runs per hour", $"× {levels[0]} at once", "identical runs" }) t.AddColumn(col);
        foreach (var r in results)
            t.AddRow($"{r.Concurrency}", $"{r.WallSeconds:F1}", string.Join(" ", r.Walls.Select(w => w.ToString("F1"))), $"{r.RunsPerHour:F1}", $"{r.Speedup:F2}",
                     r.Identical ? "yes" : $"NO: {r.FirstDifference}");
        AnsiConsole.Write(t);
        var table = Path.Combine(RepoPaths.Figures, "train-concurrency", $"{preset}.md");
        Directory.CreateDirectory(Path.GetDirectoryName(table)!);
        AtomicFile.WriteAllText(table, ConcurrencyBenchmark.Markdown(results, preset, variants, seeds, steps, repeats));
        Console.WriteLine($"table: {table}");
        int best = ConcurrencyBenchmark.Best(results);
        ConcurrencyChoice.Record(runs, preset, best, results.ToDictionary(r => r.Concurrency, r => r.RunsPerHour));
        Console.WriteLine($"{preset}: {best} at a time recorded in {Path.Combine(runs, ConcurrencyChoice.FileName)} (a series with concurrency auto uses it)");
        Directory.Delete(scratch, recursive: true);
        return results.All(r => r.Identical) ? 0 : 1;
    }
}
