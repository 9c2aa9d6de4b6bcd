using StagNotebooks.IO;
using StagNotebooks.Notebooks;

namespace StagNotebooks.Cli.Commands;

public sealed class NotebookCheckCommand : ICommand
{
    public string Name => "notebook check";
    public string Summary => "check that committed notebooks are executed, not stale, error-free, valid and small";
    public string Usage => """
        stag notebook check [notebook.ipynb ...] [--allow-unexecuted]

          Checks each notebook (default: notebooks/NN-*.ipynb) as it may be committed executed: outputs and the
          execution stamp present, every code cell's source unchanged since it was executed (metadata.stag.source_sha256)
          and no cell added or removed, no error output, valid nbformat 4, at most 1.5 MB, every JSON mime value an
          object (not the kernel's unparsed string) and no plotly.js in an output. Prints one line per problem naming
          the notebook and the cell, and exits 1 when there is any.
          --allow-unexecuted  a notebook with neither outputs nor a stamp passes (it is counted)
        """;
    public IEnumerable<string> Switches => ["allow-unexecuted"];

    public int Run(CommandLine args)
    {
        var allowUnexecuted = args.Flag("allow-unexecuted");
        var paths = args.Positional.Count > 0 ? args.Positional.ToList() : NotebookSeries.Notebooks(Path.Combine(RepoPaths.Root, "notebooks")).ToList();
        args.RejectUnknown();
        if (paths.FirstOrDefault(p => !File.Exists(p)) is { } missing) throw new CliException($"{missing}: no such notebook");
        int failed = 0, unexecuted = 0;
        foreach (var check in paths.Select(CommittedNotebook.Check))
        {
            if (!check.Executed) unexecuted++;
            if (check.Passes || (allowUnexecuted && !check.Executed && check.Problems.Count == 1)) continue;
            failed++;
            foreach (var p in check.Problems) Console.Error.WriteLine(p);
        }
        Console.WriteLine($"{paths.Count} notebooks: {paths.Count - failed} pass, {failed} with problems, {unexecuted} unexecuted");
        return failed == 0 ? 0 : 1;
    }
}
