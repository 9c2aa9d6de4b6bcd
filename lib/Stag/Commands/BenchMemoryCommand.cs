using System.Text.Json;
using StagNotebooks.Benchmarks;
using StagNotebooks.IO;
using StagNotebooks.Workbench;
using StagNotebooks.Experiments;

namespace StagNotebooks.Cli.Commands;

public sealed class BenchMemoryCommand : ICommand
{
    public string Name => "bench memory";
    public string Summary => "resident memory over a long training run and over repeated notebook-10 library calls (peak, growth)";
    public string Usage => """
        stag bench memory [--preset smoke] [--steps 2000] [--every 100] [--rounds 10] [--skip-train] [--skip-notebook]
                          [--device auto|cpu|cuda] [--threads N] [--json] [--out file.json]

          Trains separate-2xh for --steps steps from scratch (in a temporary runs folder), reading VmRSS every --every
          steps; then repeats the library calls notebook 10 makes --rounds times, reading VmRSS after each round.
          Growth is measured after warm-up (10% of the steps; round 2): the target is under 5%, the peak under 4 GB.
        """;
    public IEnumerable<string> Switches => new[] { "json", "skip-train", "skip-notebook" };

    public int Run(CommandLine args)
    {
        var preset = args.Get("preset", "smoke");
        int steps = args.GetInt("steps", 2000), every = args.GetInt("every", 100), rounds = args.GetInt("rounds", 10);
        bool skipTrain = args.Flag("skip-train"), skipNotebook = args.Flag("skip-notebook"), json = args.Flag("json");
        var device = args.Get("device", "auto");
        var outPath = args.Get("out");
        CommonOptions.ApplyThreads(args);
        args.RejectUnknown();
        if (every < 1 || every > steps) throw new CliException($"--every {every} must be between 1 and --steps {steps}");

        Action<string>? log = json ? null : Console.WriteLine;
        var data = ExperimentRuns.DataFor(preset, Console.Error.WriteLine);
        var runs = Path.Combine(Path.GetTempPath(), "stag-bench-memory-" + Guid.NewGuid().ToString("N")[..8]);
        var phases = new List<MemoryPhase>();
        try
        {
            if (!skipTrain) phases.Add(MemoryBenchmark.Training(preset, steps, every, data, runs, device, log));
            if (!skipNotebook) phases.Add(MemoryBenchmark.NotebookTen(preset, rounds, data, runs, device, log));
        }
        finally { if (Directory.Exists(runs)) Directory.Delete(runs, recursive: true); }

        var text = JsonSerializer.Serialize(phases.Select(p => new { p.Name, p.Unit, p.WarmupAt, p.WarmMB, p.PeakMB, p.FinalMB, p.Growth, p.Samples }),
                                            new JsonSerializerOptions { WriteIndented = true });
        if (outPath != null) AtomicFile.WriteAllText(outPath, text);
        if (json) { Console.WriteLine(text); return 0; }
        foreach (var p in phases)
            Console.WriteLine($"{p.Name}: resident {p.WarmMB:F0} MB after warm-up ({p.Unit} {p.WarmupAt}) → {p.FinalMB:F0} MB, peak {p.PeakMB:F0} MB, growth {p.Growth:P1}");
        return 0;
    }
}
