using StagNotebooks.Data;
using StagNotebooks.Notebooks;

namespace StagNotebooks.Cli.Commands;

public sealed class ReproduceCommand : ICommand
{
    public string Name => "reproduce";
    public string Summary => "run the whole notebook series headless: trains (or reuses) every model, writes figures/";
    public string Usage => """
        stag reproduce [--preset cpu-small] [--seeds 1] [--device auto|cpu|cuda] [-p Name=value ...] [--threads N]

          Runs notebooks/00-… to 11-… in order with these parameters (each notebook takes the ones it declares),
          each in its own process on a fresh .NET Interactive kernel, so nothing one notebook held outlives it.
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
            ["SynthSeeds"] = args.GetInt("seeds", 1).ToString(),   // notebook 11's seeds (its presets are its own)
            ["Device"] = args.Get("device", "auto"),
        };
        foreach (var p in args.All("p"))
        {
            int eq = p.IndexOf('=');
            if (eq <= 0) throw new CliException($"-p {p}: expected Name=value");
            parameters[p[..eq]] = p[(eq + 1)..];
        }
        var threads = args.Has("threads") ? args.GetInt("threads", 0).ToString() : null;
        args.RejectUnknown();
        var output = Path.Combine(RepoPaths.Figures, "notebooks");
        Directory.CreateDirectory(output);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var notebooks = NotebookSeries.Notebooks(Path.Combine(RepoPaths.Root, "notebooks"));
        foreach (var nb in notebooks)
        {
            Console.WriteLine($"▶ {Path.GetFileName(nb)}");
            int code = RunChild(nb, NotebookSeries.Applicable(nb, parameters), Path.Combine(output, Path.GetFileName(nb)), threads);
            if (code != 0)
            {
                Console.Error.WriteLine($"stag reproduce: stopped at {Path.GetFileName(nb)} (exit code {code}); run the same command again after fixing: finished training runs are reused");
                return 1;
            }
        }
        Console.WriteLine($"\n{notebooks.Count} notebooks in {clock.Elapsed.TotalMinutes:F1} min.");
        Console.WriteLine($"executed notebooks: {output}");
        Console.WriteLine($"figures and tables: {RepoPaths.Figures}/<notebook>/ (HTML charts open offline{(Reporting.FigureWriter.Chromium is null ? "; install chromium for PNGs" : ", PNGs beside them")})");
        Console.WriteLine($"trained runs:       {RepoPaths.Runs}");
        return 0;
    }

    /// <summary>`stag notebook run` in a child process: one notebook, one kernel, one process, all released at its exit.</summary>
    static int RunChild(string notebook, IReadOnlyDictionary<string, string> parameters, string output, string? threads)
    {
        var self = Environment.ProcessPath!;
        var psi = new System.Diagnostics.ProcessStartInfo(self) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(typeof(ReproduceCommand).Assembly.Location);   // run as `dotnet stag.dll`
        foreach (var a in new[] { "notebook", "run", notebook, "--out", output }) psi.ArgumentList.Add(a);
        if (threads != null) { psi.ArgumentList.Add("--threads"); psi.ArgumentList.Add(threads); }
        foreach (var (k, v) in parameters) { psi.ArgumentList.Add("-p"); psi.ArgumentList.Add($"{k}={v}"); }
        using var child = System.Diagnostics.Process.Start(psi)!;
        child.WaitForExit();
        return child.ExitCode;
    }
}
