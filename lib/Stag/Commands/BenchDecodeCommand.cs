using StagNotebooks.Runtime;
using System.Text.Json;
using Spectre.Console;
using StagNotebooks.Benchmarks;
using StagNotebooks.Decoding;
using StagNotebooks.IO;
using StagNotebooks.Model;
using StagNotebooks.Experiments;

namespace StagNotebooks.Cli.Commands;

public sealed class BenchDecodeCommand : ICommand
{
    public string Name => "bench decode";
    public string Summary => "prefill and per-token decode time of every variant and engine (ratios taken in one run)";
    public string Usage => """
        stag bench decode [--shape cpu-h] [--batch 1] [--prompt 32] [--steps 64] [--warmup 8] [--rounds 8]
                          [--device auto|cpu|cuda] [--dtype float32|bfloat16] [--threads N] [--thread-ablation] [--json] [--out file.json]
        stag bench decode --study [--batches 1,4,16,64] [--contexts 32,128] [--steps 24] [--out folder]

          --shape    a named shape (stag model info); its h is the per-stack depth, baseline-2h has 2h layers
          --steps    decode steps timed after --warmup untimed ones (at least 50 recommended)
          --rounds   the protocol: every engine decodes one block of steps per round, engines interleaved; each
                     ratio to baseline-2h gets a 95% interval over rounds (paired by round), steps beyond p75 + 3 IQR
                     are counted as outliers, and a cell with many is marked noisy instead of read as a ratio
          --thread-ablation  also time the thread engine with the old per-step set_num_threads (parallel-perstep)
          --json     print the results as JSON (--out also writes them to a file)
          --study    every variant (incl. wide-h, windowed, p = 3 and 4) × engine × batch × context, a fitted
                     latency model and its prediction of where staggering stops paying; writes cells.json,
                     cells.csv, model.json and predictions.csv into --out (default figures/decode-study)
        """;
    public IEnumerable<string> Switches => new[] { "json", "study", "thread-ablation" };

    public int Run(CommandLine args)
    {
        var shape = ModelShapes.Get(args.Get("shape", "cpu-h"));
        var o = new DecodeBenchOptions
        {
            Batch = args.GetInt("batch", 1), PromptLength = args.GetInt("prompt", 32), Steps = args.GetInt("steps", 64),
            Warmup = args.GetInt("warmup", 8), Rounds = args.GetInt("rounds", 8), Device = args.Get("device", "cpu"), Dtype = args.Get("dtype", "float32"),
        };
        bool json = args.Flag("json"), threadAblation = args.Flag("thread-ablation");
        var outPath = args.Get("out");
        if (args.Flag("study"))
        {
            var so = new DecodeStudyOptions
            {
                Batches = ParseList(args.Get("batches", "1,4,16,64"), "batches"), Contexts = ParseList(args.Get("contexts", "32,128"), "contexts"),
                Steps = args.GetInt("steps", 24), Warmup = args.GetInt("warmup", 4), Device = o.Device, Dtype = o.Dtype,
            };
            CommonOptions.ApplyThreads(args);
            args.RejectUnknown();
            return RunStudy(shape, so, outPath ?? Path.Combine("figures", "decode-study"), json);
        }
        CommonOptions.ApplyThreads(args);
        args.RejectUnknown();

        var cases = DecodeBenchmark.StandardCases(shape).ToList();
        if (threadAblation)
            cases.Insert(cases.FindIndex(c => c.Engine == EngineKind.Parallel) + 1, cases.First(c => c.Engine == EngineKind.Parallel) with { CallerThreads = CallerThreadSetting.PerStep });
        var results = DecodeBenchmark.Run(cases, o, json ? null : Console.WriteLine);
        var text = JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals });   // a ratio bound can be infinite
        if (outPath != null) AtomicFile.WriteAllText(outPath, text);
        if (json) { Console.WriteLine(text); return 0; }
        Print(results, o);
        return results.All(r => r.TokensEqualSequential != false) ? 0 : 1;
    }

    /// <summary>
    /// The results as a console table beside the floor this machine allows each case (<see cref="DecodeFloor"/>, measured
    /// after the timings so it does not disturb them), then the GPU PREDICTION (assumed constants, not measured).
    /// </summary>
    static void Print(IReadOnlyList<DecodeBenchResult> results, DecodeBenchOptions o)
    {
        var floor = DecodeFloor.Measure(TorchRuntime.ResolveDevice(o.Device));
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 200);   // a log file: one row per line, not 80 columns of wrapped cells
        var t = new Table().Border(TableBorder.Rounded);
        foreach (var col in new[] { "variant", "engine", "prefill ms", "decode ms/token (IQR)", "floor ms", "× floor", "tokens/s", "× baseline-2h [95%]", "outliers", "= sequential", "calls/step", "weights MB", "self KV MB", "cross KV MB" })
            t.AddColumn(Markup.Escape(col));   // "[95%]" is markup to Spectre otherwise
        foreach (var r in results)
            t.AddRow(r.Variant, r.EngineName, $"{r.PrefillMs:F2}", $"{r.DecodeMedianMs:F3} ({r.DecodeP25Ms:F3}–{r.DecodeP75Ms:F3})", $"{floor.Ms(r):F3}", $"{r.DecodeMedianMs / floor.Ms(r):F2}", $"{r.TokensPerSecond:F0}",
                r.Noisy ? $"[yellow]{Markup.Escape(r.RatioText)}[/]" : Markup.Escape(r.RatioText), $"{r.Outliers}", r.TokensEqualSequential switch { true => "yes", false => "[red]NO[/]", null => "n/a" }, $"{r.CriticalPathTensors}", $"{r.WeightBytes / 1e6:F1}", $"{r.SelfKvBytes / 1e6:F2}", $"{r.CrossKvBytes / 1e6:F2}");
        AnsiConsole.Write(t);
        Console.WriteLine($"floor = calls/step × the cost of one call + bytes read ÷ stream bandwidth, measured here: {floor}");
        // A prediction, not a measurement: the measured calls and computed bytes under assumed GPU constants.
        var g = GpuAssumptions.H200;
        double Gpu(DecodeBenchResult r) => GpuLatencyPrediction.PredictMs(g, r, results);
        var gpuBase = results.FirstOrDefault(r => r.Variant == o.BaselineVariant) is { } b0 ? Gpu(b0) : double.NaN;
        Console.WriteLine($"PREDICTED on a GPU (not measured; {g.Device}: {g.LaunchUs} µs/call issued, {g.KernelUs} µs/kernel, {g.BandwidthGBs} GB/s, one stream):");
        foreach (var r in results)
            Console.WriteLine($"  {r.Variant,-14} {r.EngineName,-16} {Gpu(r),7:F3} ms/token  ×{Gpu(r) / gpuBase:F2}");
    }

    static int[] ParseList(string text, string option) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(t => int.TryParse(t, out var v) && v > 0 ? v : throw new CliException($"option --{option}: '{t}' is not a positive integer")).ToArray();

    static int RunStudy(StagFormerConfig shape, DecodeStudyOptions o, string folder, bool json)
    {
        var study = DecodeStudy.Run(shape, o, json ? null : Console.WriteLine);
        var opts = new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
        AtomicFile.WriteAllText(Path.Combine(folder, "cells.json"), JsonSerializer.Serialize(study.Cells, opts));
        AtomicFile.WriteAllText(Path.Combine(folder, "model.json"), JsonSerializer.Serialize(study.Model, opts));
        AtomicFile.WriteAllText(Path.Combine(folder, "cells.csv"), Reporting.Csv.From(study.Cells));
        AtomicFile.WriteAllText(Path.Combine(folder, "predictions.csv"), Reporting.Csv.From(study.Predictions));
        var m = study.Model;
        if (json) { Console.WriteLine(JsonSerializer.Serialize(study, opts)); return 0; }
        Console.WriteLine($"roofline: {study.Roofline.BandwidthGBs:F1} GB/s; best achieved in a decode step: {study.Cells.Max(c => c.AchievedGBs):F1} GB/s");
        Console.WriteLine($"latency model: t = {m.FixedMs:F3} ms + {m.MsPerCall * 1000:F2} µs × calls + bytes / {m.BandwidthGBs:F1} GB/s   (R² {m.RSquared:F3}, {m.Cells} cells)");
        var pays = study.Predictions.Where(p => p.Ratio < 1).ToList();
        Console.WriteLine(pays.Count == 0 ? "predicted: staggering does not pay anywhere on the grid"
            : $"predicted: separate 2×h parallel beats baseline 2h up to batch×context ≈ {pays.Max(p => (long)p.Batch * p.Context):N0} tokens of KV per layer; ratio at batch 1, context 64: {study.Predictions.First().Ratio:F2}");
        Console.WriteLine($"written: {Path.GetFullPath(folder)}/{{cells.json,cells.csv,model.json,predictions.csv}}");
        return study.Cells.All(c => c.TokensEqualSequential != false) ? 0 : 1;
    }
}
