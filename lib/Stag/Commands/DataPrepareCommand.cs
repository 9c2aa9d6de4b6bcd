using StagNotebooks.Data;
using StagNotebooks.IO;

namespace StagNotebooks.Cli.Commands;

public sealed class DataPrepareCommand : ICommand
{
    public string Name => "data prepare";
    public string Summary => "tokenize Pile-format shards on all cores into packed token files + manifest (cached)";
    public string Usage => """
        stag data prepare [--tokenizer brown-bpe] [--train <shard|glob> ...] [--val ...] [--test ...]
                          [--out data/packed/<tokenizer>] [--subset NAME ...] [--strict] [--threads N]

          Without --train/--val/--test it packs the bundled corpus (data/brown). Shards are .jsonl or .jsonl.zst.
          Tokenizers: brown-bpe, cl100k_base, o200k_base, bpe:<dir>, sp:<file.model>.
          Bad lines (invalid UTF-8 or JSON, no string "text", ...) are skipped: the summary counts them per kind and shows
          the first 3 of each kind with file, line and reason, and <out>/<split>.rejects.jsonl lists every one (JSON lines:
          file, line, kind, reason, bytes, head = the line's first 80 bytes, escaped).
          --strict stops at the first bad line instead, naming it.
        """;
    public IEnumerable<string> Switches => new[] { "strict" };

    public int Run(CommandLine args)
    {
        var tokenizer = args.Get("tokenizer", "brown-bpe");
        var splits = Splits(args);
        bool strict = args.Flag("strict");
        var subsets = args.All("subset");
        int? threads = args.Has("threads") ? args.GetInt("threads", 1) : null;
        var outFolder = args.Get("out");
        args.RejectUnknown();
        PackedDataset ds;
        try
        {
            ds = splits.Count == 0 && outFolder is null && subsets.Count == 0
                ? PackedDataset.PrepareBundled(tokenizer, Console.WriteLine)
                : PackedDataset.Prepare(splits.Count == 0 ? BrownCorpus.Splits.ToDictionary(s => s, s => (IReadOnlyList<string>)new[] { RepoPaths.BrownSplit(s) }) : splits,
                    tokenizer, outFolder ?? RepoPaths.Data("packed", tokenizer.Replace(':', '_').Replace('/', '_')), strict,
                    subsets.Count > 0 ? subsets : null, threads, Console.WriteLine);
        }
        catch (PileFormatException e) { throw new CliException($"--strict: {e.Message}"); }
        Console.WriteLine($"{ds.Folder}: {string.Join(", ", ds.Manifest.Splits.Select(s => $"{s.Key} {s.Value.Tokens:N0} tokens"))} (data id {ds.Id})");
        return 0;
    }

    /// <summary>--train/--val/--test shard lists given on the command line (empty: the bundled corpus).</summary>
    internal static Dictionary<string, IReadOnlyList<string>> Splits(CommandLine args)
    {
        var splits = new Dictionary<string, IReadOnlyList<string>>();
        foreach (var s in new[] { "train", "val", "test" })
            if (args.All(s) is { Count: > 0 } files) splits[s] = files.ToList();
        return splits;
    }
}
