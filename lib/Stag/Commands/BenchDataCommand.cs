using System.Text.Json;
using StagNotebooks.Benchmarks;
using StagNotebooks.IO;

namespace StagNotebooks.Cli.Commands;

public sealed class BenchDataCommand : ICommand
{
    public string Name => "bench data";
    public string Summary => "MB/s of raw text through read + decompress + tokenize + write, 1 thread vs all cores; reading with bad lines vs clean";
    public string Usage => """
        stag bench data [--cases tokenizers,bad-lines] [--tokenizers brown-bpe,cl100k_base,o200k_base] [--input <shard|glob> ...]
                        [--lines 1000000] [--bad 1000] [--repeats 3] [--json] [--out file.json]

          tokenizers (the default case): per tokenizer, MB/s of the whole preparation path on one thread and on all cores.
          bad-lines: MB/s of reading (PileReader + the rejects file) a clean shard of --lines Pile lines and the same
                     shard with --bad bad lines of every kind, read alternately --repeats times each (median).
        """;
    public IEnumerable<string> Switches => new[] { "json" };

    public int Run(CommandLine args)
    {
        var cases = args.Get("cases", "tokenizers").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        foreach (var c in cases.Where(c => c is not ("tokenizers" or "bad-lines")))
            throw new CliException($"--cases: unknown case '{c}' (the cases: tokenizers, bad-lines)");
        var names = args.Get("tokenizers", "brown-bpe,cl100k_base,o200k_base").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var inputs = args.All("input").DefaultIfEmpty(RepoPaths.BrownSplit("train")).ToList();
        long lines = args.GetInt("lines", 1_000_000);
        int bad = args.GetInt("bad", 1000);
        int repeats = args.GetInt("repeats", 3);
        bool json = args.Flag("json");
        var outPath = args.Get("out");
        args.RejectUnknown();
        Action<string>? log = json ? null : Console.WriteLine;
        var results = new Dictionary<string, object>();
        if (cases.Contains("tokenizers")) results["tokenizers"] = DataBenchmark.Run(names, inputs, log);
        if (cases.Contains("bad-lines")) results["bad-lines"] = BadLinesBenchmark.Run(lines, bad, repeats, log);
        // One case: its list, as before; several: an object keyed by case.
        var text = JsonSerializer.Serialize(results.Count == 1 ? results.Values.Single() : results, new JsonSerializerOptions { WriteIndented = true });
        if (outPath != null) AtomicFile.WriteAllText(outPath, text);
        if (json) Console.WriteLine(text);
        return 0;
    }
}
