using System.Text.Json;
using StagNotebooks.Benchmarks;
using StagNotebooks.Data;
using StagNotebooks.IO;

namespace StagNotebooks.Cli.Commands;

public sealed class BenchDataCommand : ICommand
{
    public string Name => "bench data";
    public string Summary => "MB/s of raw text through read + decompress + tokenize + write, 1 thread vs all cores";
    public string Usage => """
        stag bench data [--tokenizers brown-bpe,cl100k_base,o200k_base] [--input <shard|glob> ...] [--json] [--out file.json]
        """;
    public IEnumerable<string> Switches => new[] { "json" };

    public int Run(CommandLine args)
    {
        var names = args.Get("tokenizers", "brown-bpe,cl100k_base,o200k_base").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var inputs = args.All("input").DefaultIfEmpty(RepoPaths.BrownSplit("train")).ToList();
        bool json = args.Flag("json");
        var outPath = args.Get("out");
        args.RejectUnknown();
        var results = DataBenchmark.Run(names, inputs, json ? null : Console.WriteLine);
        var text = JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true });
        if (outPath != null) AtomicFile.WriteAllText(outPath, text);
        if (json) Console.WriteLine(text);
        return 0;
    }
}
