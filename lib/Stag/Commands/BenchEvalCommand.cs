using System.Text.Json;
using StagNotebooks.Benchmarks;
using StagNotebooks.Evaluation;
using StagNotebooks.IO;
using StagNotebooks.Runtime;

namespace StagNotebooks.Cli.Commands;

public sealed class BenchEvalCommand : ICommand
{
    public string Name => "bench eval";
    public string Summary => "evaluation speed: tokens scored per second, batched and one window per forward, beside the training forward's";
    public string Usage => """
        stag bench eval [--preset smoke] [--variant separate-2xh] [--docs 32] [--repeats 3] [--device auto|cpu|cuda]
                        [--batch-log2 20] [--threads N] [--json] [--out file.json]

          Scores the first --docs validation documents (perplexity, sliding windows) with all windows batched into
          as few forwards as fit, and one window per forward, and times the training forward (the preset's batch ×
          context, no gradients) on the same model: medians of --repeats interleaved runs after a warm-up, each way's
          spread, and batched ÷ training forward per repeat. --batch-log2: 2^N logits per batched call.
        """;
    public IEnumerable<string> Switches => new[] { "json" };

    public int Run(CommandLine args)
    {
        var preset = args.Get("preset", "smoke");
        var variant = args.Get("variant", "separate-2xh");
        int docs = args.GetInt("docs", 32), repeats = args.GetInt("repeats", 3);
        int batchLog2 = args.GetInt("batch-log2", (int)Math.Log2(TokenScoring.DefaultBatchElements));
        var device = TorchRuntime.ResolveDevice(args.Get("device", "auto"));
        bool json = args.Flag("json");
        var outPath = args.Get("out");
        CommonOptions.ApplyThreads(args);
        args.RejectUnknown();
        if (docs < 1 || repeats < 1) throw new CliException("--docs and --repeats must be at least 1");
        if (batchLog2 < 0 || batchLog2 > 40) throw new CliException("--batch-log2 must be in [0, 40]");
        var result = EvalBenchmark.Run(preset, variant, docs, repeats, device, json ? null : Console.WriteLine, 1L << batchLog2);
        var text = JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true });
        if (outPath != null) AtomicFile.WriteAllText(outPath, text);
        if (json) Console.WriteLine(text);
        return 0;
    }
}
