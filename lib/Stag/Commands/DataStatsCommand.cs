using Spectre.Console;
using StagNotebooks.Data;
using StagNotebooks.IO;

namespace StagNotebooks.Cli.Commands;

public sealed class DataStatsCommand : ICommand
{
    public string Name => "data stats";
    public string Summary => "documents, bytes, tokens and bytes per token, per subset";
    public string Usage => """
        stag data stats [--tokenizer brown-bpe] [--train <shard|glob> ...] [--val ...] [--test ...] [--strict] [--json]

          Packs the inputs first if needed (the same cache as stag data prepare) into data/packed/stats-<tokenizer>/;
          without inputs, the bundled corpus (data/packed/<tokenizer>/). Bad lines are skipped: the log (standard error)
          shows the first 3 of each kind, and data/packed/stats-<tokenizer>/<split>.rejects.jsonl lists every one, as
          stag data prepare does. --strict stops at the first bad line instead, naming it.
        """;
    public IEnumerable<string> Switches => new[] { "json", "strict" };

    public int Run(CommandLine args)
    {
        var tokenizer = args.Get("tokenizer", "brown-bpe");
        var splits = DataPrepareCommand.Splits(args);
        bool json = args.Flag("json");
        bool strict = args.Flag("strict");
        args.RejectUnknown();
        PackedDataset ds;
        try
        {
            ds = splits.Count == 0 && !strict ? PackedDataset.PrepareBundled(tokenizer, Console.Error.WriteLine)
                : PackedDataset.Prepare(splits.Count == 0 ? BrownCorpus.Splits.ToDictionary(s => s, s => (IReadOnlyList<string>)new[] { RepoPaths.BrownSplit(s) }) : splits,
                    tokenizer, RepoPaths.Data("packed", (splits.Count == 0 ? "" : "stats-") + tokenizer.Replace(':', '_').Replace('/', '_')), strict, log: Console.Error.WriteLine);
        }
        catch (PileFormatException e) { throw new CliException($"--strict: {e.Message}"); }
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
        foreach (var (split, m) in ds.Manifest.Splits.Where(s => s.Value.Rejects is not null))
            Console.WriteLine($"{split}: {m.BadLines:N0} bad line(s) skipped, every one listed in {Path.Combine(ds.Folder, m.Rejects!)}");
        return 0;
    }
}
