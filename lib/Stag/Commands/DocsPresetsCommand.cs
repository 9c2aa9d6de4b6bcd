using StagNotebooks.IO;
using StagNotebooks.Training;

namespace StagNotebooks.Cli.Commands;

public sealed class DocsPresetsCommand : ICommand
{
    public string Name => "docs presets";
    public string Summary => "write docs/presets.md from the preset registry (--check: fail if out of date)";
    public string Usage => """
        stag docs presets [--check]

          docs/presets.md is generated from lib/StagNotebooks/Training/Presets.cs: every preset's model, data, budget,
          learning rate, device and purpose. Run it after changing a preset.
          --check  change nothing; exit 1 when the file differs from the registry
        """;
    public IEnumerable<string> Switches => new[] { "check" };

    public int Run(CommandLine args)
    {
        bool check = args.Flag("check");
        args.RejectUnknown();
        var path = Path.Combine(RepoPaths.Root, "docs", "presets.md");
        var text = Presets.Markdown();
        bool same = File.Exists(path) && File.ReadAllText(path) == text;
        if (check)
        {
            if (same) { Console.WriteLine("docs/presets.md is up to date with the registry"); return 0; }
            Console.Error.WriteLine("docs/presets.md differs from lib/StagNotebooks/Training/Presets.cs: run `stag docs presets`");
            return 1;
        }
        if (!same) AtomicFile.WriteAllText(path, text);
        Console.WriteLine(same ? "docs/presets.md was up to date" : "docs/presets.md: written from the registry");
        return 0;
    }
}
