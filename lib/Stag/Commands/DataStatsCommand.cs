using Spectre.Console;
using StagNotebooks.Data;
using StagNotebooks.IO;

namespace StagNotebooks.Cli.Commands;

public sealed class DataStatsCommand : ICommand
{
    public string Name => "data stats";
    public string Summary => "documents, bytes, tokens and bytes per token, per subset";
    public string Usage => """
        stag data stats [--tokenizer brown-bpe] [--train <shard|glob> ...] [--val ...] [--test ...] [--json]

          Packs the inputs first if needed (the same cache as stag data prepare); without inputs, the bundled corpus.
        """;
    public IEnumerable<string> Switches => new[] { "json" };

    public int Run(CommandLine args)
    {
        var tokenizer = args.Get("tokenizer", "brown-bpe");
        var splits = DataPrepareCommand.Splits(args);
        bool json = args.Flag("json");
        args.RejectUnknown();
        var ds = splits.Count == 0 ? PackedDataset.PrepareBundled(tokenizer, Console.Error.WriteLine)
            : PackedDataset.Prepare(splits, tokenizer, RepoPaths.Data("packed", "stats-" + tokenizer.Replace(':', '_').Replace('/', '_')), log: Console.Error.WriteLine);
        if (json) { Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(ds.Manifest, new System.Text.Json.JsonSerializerOptions { WriteIndented = true })); return 0; }
        var t = new Table().Border(TableBorder.Rounded).AddColumns("split", "subset", "documents", "bytes", "tokens", "bytes/token");
        foreach (var (split, m) in ds.Manifest.Splits)
        {
            foreach (var (subset, c) in m.Subsets)
                t.AddRow(split, subset, c.Documents.ToString("N0"), c.Bytes.ToString("N0"), c.Tokens.ToString("N0"), (c.Bytes / (double)c.Tokens).ToString("F2"));
            t.AddRow($"[bold]{split}[/]", "[bold]all[/]", m.Documents.ToString("N0"), m.Bytes.ToString("N0"), m.Tokens.ToString("N0"), m.BytesPerToken.ToString("F2"));
        }
        AnsiConsole.Write(t);
        Console.WriteLine($"tokenizer {ds.Manifest.Tokenizer}: vocabulary {ds.Manifest.VocabSize}, end-of-text {ds.Manifest.EndOfText}, {ds.Manifest.BytesPerTokenId} bytes per stored token");
        return 0;
    }
}
