using StagNotebooks.Notebooks;

namespace StagNotebooks.Cli.Commands;

public sealed class NotebookStampCommand : ICommand
{
    public string Name => "notebook stamp";
    public string Summary => "write a notebook executed by another runner (Jupyter's nbclient) as `stag notebook run` writes it";
    public string Usage => """
        stag notebook stamp <executed.ipynb> [-p Name=value ...] [--runner nbclient] [--seconds S]

          For a notebook another runner executed (tests/jupyter/run_notebooks.py through Jupyter's client): parses
          the kernel's string values of JSON mime types (application/vnd.plotly.v1+json) into objects, drops empty
          ones, and stamps it exactly as `stag notebook run` does (metadata.stag: each code cell's source hash, the
          runner, the effective Preset and Seeds, the -p overrides, the commit), rewriting the file atomically.
        """;

    public int Run(CommandLine args)
    {
        if (args.Positional.Count != 1) throw new CliException("give exactly one executed notebook");
        var parameters = NotebookRunCommand.Parameters(args);
        var runner = args.Get("runner", "nbclient");
        var seconds = args.GetDouble("seconds", 0);
        args.RejectUnknown();
        var path = args.Positional[0];
        NotebookDocument doc;
        try { doc = NotebookDocument.Load(path); }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException) { throw new CliException(e.Message); }
        OutputBundle.NormalizeAll(doc);
        NotebookStamp.Apply(doc, new StampInfo(runner, parameters, seconds));
        doc.Save(path);
        Console.WriteLine($"{path}: stamped ({runner})");
        return 0;
    }
}
