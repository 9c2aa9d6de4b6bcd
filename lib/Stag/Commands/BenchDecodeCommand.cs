using System.Text.Json;
using Spectre.Console;
using StagNotebooks.Benchmarks;
using StagNotebooks.Model;

namespace StagNotebooks.Cli.Commands;

public sealed class BenchDecodeCommand : ICommand
{
    public string Name => "bench decode";
    public string Summary => "prefill and per-token decode time of every variant and engine (ratios taken in one run)";
    public string Usage => """
        stag bench decode [--shape cpu-h] [--batch 1] [--prompt 32] [--steps 64] [--warmup 8]
                          [--device auto|cpu|cuda] [--dtype float32|bfloat16] [--threads N] [--json] [--out file.json]

          --shape    a named shape (stag model shapes); its h is the per-stack depth, baseline-2h has 2h layers
          --steps    decode steps timed after --warmup untimed ones (at least 50 recommended)
          --json     print the results as JSON (--out also writes them to a file)
        """;
    public IEnumerable<string> Switches => new[] { "json" };

    public int Run(CommandLine args)
    {
        var shape = ModelShapes.Get(args.Get("shape", "cpu-h"));
        var o = new DecodeBenchOptions
        {
            Batch = args.GetInt("batch", 1), PromptLength = args.GetInt("prompt", 32), Steps = args.GetInt("steps", 64),
            Warmup = args.GetInt("warmup", 8), Device = args.Get("device", "cpu"), Dtype = args.Get("dtype", "float32"),
        };
        bool json = args.Flag("json");
        var outPath = args.Get("out");
        CommonOptions.ApplyThreads(args);
        args.RejectUnknown();

        var results = DecodeBenchmark.Run(DecodeBenchmark.StandardCases(shape), o, json ? null : Console.WriteLine);
        var text = JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true });
        if (outPath != null) Reporting.AtomicFile.WriteAllText(outPath, text);
        if (json) { Console.WriteLine(text); return 0; }
        var t = new Table().Border(TableBorder.Rounded);
        foreach (var col in new[] { "variant", "engine", "prefill ms", "decode ms/token (p10–p90)", "tokens/s", "× baseline-2h", "= sequential", "weights MB", "self KV MB", "cross KV MB" })
            t.AddColumn(col);
        foreach (var r in results)
            t.AddRow(r.Variant, r.Engine, $"{r.PrefillMs:F2}", $"{r.DecodeMedianMs:F3} ({r.DecodeP10Ms:F3}–{r.DecodeP90Ms:F3})", $"{r.TokensPerSecond:F0}",
                $"{r.RatioToBaseline:F2}", r.TokensEqualSequential ? "yes" : "[red]NO[/]", $"{r.WeightBytes / 1e6:F1}", $"{r.SelfKvBytes / 1e6:F2}", $"{r.CrossKvBytes / 1e6:F2}");
        AnsiConsole.Write(t);
        return results.All(r => r.TokensEqualSequential) ? 0 : 1;
    }
}
