using StagNotebooks.Notebooks;

namespace StagNotebooks.Cli.Commands;

public sealed class NotebookRunCommand : ICommand
{
    public string Name => "notebook run";
    public string Summary => "execute a C# notebook headless on the .NET Interactive kernel and write it with its outputs";
    public string Usage => """
        stag notebook run <notebook.ipynb> [-p Name=value ...] [--out executed.ipynb | --in-place] [--threads N]

          -p          override a variable of the cell tagged "parameters" (as papermill does)
          --out       where the executed notebook goes (default: <notebook>.executed.ipynb beside it)
          --in-place  write the executed notebook over the notebook itself (atomically), as committed notebooks are;
                      `stag reproduce --in-place` does it for the whole series
        Outputs, stamps and the injected-parameters cell of an earlier execution are cleared first; a successful run
        stamps the notebook (metadata.stag: each code cell's source hash, preset, seeds, overrides, commit), which
        `stag notebook check` compares with the source.
        The cells run in order on a fresh .NET Interactive C# kernel (the kernel Polyglot Notebooks and Jupyter use),
        hosted in this process, in the notebook's folder. A failing cell stops the run with
        "notebook <path>, cell <n>: <the kernel's diagnostic>" and exit code 1; the executed notebook up to that cell
        is still written.
        """;

    public IEnumerable<string> Switches => ["in-place"];

    /// <summary>The -p Name=value overrides.</summary>
    internal static Dictionary<string, string> Parameters(CommandLine args)
    {
        var parameters = new Dictionary<string, string>();
        foreach (var p in args.All("p"))
        {
            int eq = p.IndexOf('=');
            if (eq <= 0) throw new CliException($"-p {p}: expected Name=value");
            parameters[p[..eq]] = p[(eq + 1)..];
        }
        return parameters;
    }

    public int Run(CommandLine args)
    {
        if (args.Positional.Count != 1) throw new CliException("give exactly one notebook");
        var parameters = Parameters(args);
        var output = args.Get("out");
        if (args.Flag("in-place"))
            output = output is null ? args.Positional[0] : throw new CliException("--out and --in-place exclude each other");
        CommonOptions.ApplyThreads(args);
        args.RejectUnknown();
        try
        {
            // The kernel redirects Console while a cell runs; progress goes to the real standard output.
            using var terminal = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
            var run = NotebookRunner.Run(args.Positional[0], parameters, output is null ? null : Path.GetFullPath(output), terminal);
            Console.WriteLine($"{run.Notebook}: {run.CellSeconds.Count} code cells in {run.TotalSeconds:F1} s → {run.Output}");
            return 0;
        }
        catch (NotebookException e)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }
    }
}
