using Spectre.Console;
using StagNotebooks.Model;
using StagNotebooks.Training;
using StagNotebooks.Workbench;
using StagNotebooks.Experiments;

namespace StagNotebooks.Cli.Commands;

public sealed class TrainCommand : ICommand
{
    public string Name => "train";
    public string Summary => "train a variant of a preset on the bundled corpus (resumes; reuses a finished identical run)";
    public string Usage => $"""
        stag train [--preset cpu-small] [--variant separate-2xh] [--seed 1] [--set Field=value ...] [--tokenizer <the preset's, brown-bpe>]
                   [--runs runs] [--device auto|cpu|cuda] [--threads N] [--print-config]

          --preset        {Presets.Help(PresetKind.Text, new string(' ', 18))}
          --variant       {string.Join(", ", ModelVariants.Names)} (or separate-2xh-wN)
          --set           override a field: --set LearningRate=1e-3 --set Model.CrossWindow=8
          --print-config  print the resolved config as JSON and exit
        The run lives in runs/<preset>-<variant>-<id>/ (config, metrics.csv/jsonl, checkpoints/step-N folders with the pointers last and best).
        Interrupt it (Ctrl+C) and run the same command again to resume exactly where it stopped.
        """;
    public IEnumerable<string> Switches => new[] { "print-config" };

    public int Run(CommandLine args)
    {
        var preset = args.Get("preset", "cpu-small");
        var variant = args.Get("variant", "separate-2xh");
        long seed = args.GetInt("seed", 1);
        var sets = args.All("set");
        var tokenizer = args.Get("tokenizer", Presets.Tokenizer(preset));
        var runs = args.Get("runs");
        var device = args.Get("device", "auto");
        bool printOnly = args.Flag("print-config");
        CommonOptions.ApplyThreads(args);
        args.RejectUnknown();

        var data = ExperimentRuns.Data(tokenizer, Console.Error.WriteLine);   // stdout stays clean for --print-config
        var config = ExperimentRuns.Config(preset, variant, data, seed, sets);
        if (printOnly) { Console.WriteLine(config.ToJson()); return 0; }
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); Console.Error.WriteLine("stopping after this step; run the same command to resume"); };
        TrainResult? result = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask($"{preset} {variant}", maxValue: config.TotalSteps);
                result = ExperimentRuns.Train(config, variant, data, runs, p =>
                {
                    task.Value = p.Step;
                    var m = p.Metrics;
                    task.Description = $"{variant} step {m.Step} loss {m.Loss:F3} lr {m.LearningRate:E1} |g| {m.GradNorm:F2} {m.TokensPerSecond:F0} tok/s" +
                                       (m.Mfu is double mfu ? $" MFU {mfu:P0}" : "") + (m.ValLoss is double v ? $" val {v:F3}" : "");
                }, device, cts.Token, Console.Error.WriteLine);
                task.Value = result.Steps;
            });
        var r = result!;
        Console.WriteLine($"{r.Run.Path}: {r.Steps} steps, final loss {r.FinalLoss:F4}, best val loss {r.BestValLoss:F4}{(r.Run.IsComplete ? "" : " (not finished: run again to resume)")}");
        return 0;
    }
}
