using System.Text.Json;
using Spectre.Console;
using StagNotebooks.Benchmarks;
using StagNotebooks.IO;
using StagNotebooks.Runtime;

namespace StagNotebooks.Cli.Commands;

public sealed class BenchTrainCommand : ICommand
{
    public string Name => "bench train";
    public string Summary => "training step time, tokens/s, MFU and resident-memory growth per variant";
    public string Usage => """
        stag bench train [--preset cpu-small] [--variants baseline-h,baseline-2h,separate-2xh,shared-2xh]
                         [--steps 1000] [--early-step 100] [--device auto|cpu|cuda] [--threads N] [--json] [--out file.json]

          MFU divides model FLOPs/s by the fp32 GEMM peak measured at start (as stag doctor does).
          Resident memory is read at --early-step and at the last step: growth should stay under 5%.
        """;
    public IEnumerable<string> Switches => new[] { "json" };

    public int Run(CommandLine args)
    {
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
}
