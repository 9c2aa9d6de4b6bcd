using StagNotebooks.Data;
using StagNotebooks.Notebooks;

namespace StagNotebooks.Cli.Commands;

public sealed class ReproduceCommand : ICommand
{
    public string Name => "reproduce";
    public string Summary => "run the whole notebook series headless: trains (or reuses) every model, writes figures/";
    public string Usage => """
        stag reproduce [--preset cpu-small] [--seeds 1] [--device auto|cpu|cuda] [-p Name=value ...] [--threads N]

          Runs notebooks/00-… to 09-… in order with these parameters (each notebook takes the ones it declares).
          Trained runs are found in runs/ by config hash and reused, so nothing trains twice; an interrupted
          reproduce resumes. Executed notebooks go to figures/notebooks/, charts (HTML, PNG with Chromium) and
          tables (CSV, Markdown) to figures/<notebook>/.
        """;

    public int Run(CommandLine args)
    {
        var parameters = new Dictionary<string, string>
        {
            ["Preset"] = args.Get("preset", "cpu-small"),
            ["Seeds"] = args.GetInt("seeds", 1).ToString(),
            ["Device"] = args.Get("device", "auto"),
        };
        foreach (var p in args.All("p"))
        {
            int eq = p.IndexOf('=');
            if (eq <= 0) throw new CliException($"-p {p}: expected Name=value");
            parameters[p[..eq]] = p[(eq + 1)..];
        }
        CommonOptions.ApplyThreads(args);
        args.RejectUnknown();
        var output = Path.Combine(RepoPaths.Figures, "notebooks");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            var runs = NotebookSeries.Run(Path.Combine(RepoPaths.Root, "notebooks"), parameters, output, Console.WriteLine);
            Console.WriteLine($"\n{runs.Count} notebooks in {clock.Elapsed.TotalMinutes:F1} min.");
            Console.WriteLine($"executed notebooks: {output}");
            Console.WriteLine($"figures and tables: {RepoPaths.Figures}/<notebook>/ (HTML charts open offline{(Reporting.FigureWriter.Chromium is null ? "; install chromium for PNGs" : ", PNGs beside them")})");
            Console.WriteLine($"trained runs:       {RepoPaths.Runs}");
            return 0;
        }
        catch (NotebookException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine("(run the same command again after fixing: finished training runs are reused)");
            return 1;
        }
    }
}
