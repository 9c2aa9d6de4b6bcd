using StagNotebooks.Data;
using StagNotebooks.IO;

namespace StagNotebooks.Cli.Commands;

public sealed class DataTrainBpeCommand : ICommand
{
    public string Name => "data train-bpe";
    public string Summary => "train the small byte-level BPE the CPU presets use (vocab.json + merges.txt)";
    public string Usage => """
        stag data train-bpe [--input data/brown/train.jsonl.zst ...] [--vocab-size 4096] [--out data/tokenizer]
        """;

    public int Run(CommandLine args)
    {
        var inputs = args.All("input").DefaultIfEmpty(RepoPaths.BrownSplit("train")).ToList();
        int size = args.GetInt("vocab-size", 4096);
        var outFolder = args.Get("out", RepoPaths.Data("tokenizer"));
        args.RejectUnknown();
        var reader = new PileReader(inputs);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var trainer = new BpeTrainer().Train(reader.Read().Select(r => r.Text), size);
        trainer.Save(outFolder);
        Console.WriteLine($"{reader.Summary}");
        foreach (var line in reader.ExampleLines()) Console.WriteLine(line);
        Console.WriteLine($"{trainer.Merges.Count} merges, vocabulary {trainer.Vocab.Count} (incl. {BpeTrainer.EndOfText}) in {sw.Elapsed.TotalSeconds:F0} s → {outFolder}");
        var check = TokenizerFactory.Create("bpe:" + outFolder);
        Console.WriteLine($"loaded back through Microsoft.ML.Tokenizers: vocabulary {check.VocabSize}, end-of-text id {check.EndOfText}");
        return 0;
    }
}
