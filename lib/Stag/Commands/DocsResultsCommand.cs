using StagNotebooks.IO;
using StagNotebooks.Reporting;

namespace StagNotebooks.Cli.Commands;

public sealed class DocsResultsCommand : ICommand
{
    public string Name => "docs results";
    public string Summary => "recopy docs/results.md's tables from the figures/ files they come from (--check: fail if out of date)";
    public string Usage => """
        stag docs results [--check]

          Every table of docs/results.md sits between '<!-- from: figures/….md -->' and '<!-- end -->'; this recopies
          each from its file, so the document shows what the runs wrote. Run it after a run that refreshed figures/.
          --check  change nothing; exit 1 and name the document when a table differs from its file
        """;
    public IEnumerable<string> Switches => new[] { "check" };

    public int Run(CommandLine args)
    {
        bool check = args.Flag("check");
        args.RejectUnknown();
        var path = Path.Combine(RepoPaths.Root, "docs", "results.md");
        try
        {
            if (check)
            {
                var text = File.ReadAllText(path);
                if (ResultsDocument.Refresh(text, "docs/results.md", RepoPaths.Root) == text) { Console.WriteLine("docs/results.md is up to date with figures/"); return 0; }
                Console.Error.WriteLine("docs/results.md differs from the figures/ files it copies: run `stag docs results`");
                return 1;
            }
            Console.WriteLine(ResultsDocument.RefreshFile(path, RepoPaths.Root) ? "docs/results.md: tables recopied from figures/" : "docs/results.md was up to date");
            return 0;
        }
        catch (InvalidDataException e) { throw new CliException(e.Message); }
    }
}
