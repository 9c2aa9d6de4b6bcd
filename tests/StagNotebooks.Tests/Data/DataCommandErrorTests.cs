using System.Text;
using StagNotebooks.Cli;
using StagNotebooks.Cli.Commands;
using StagNotebooks.Data;

namespace StagNotebooks.Tests.Data;

/// <summary>Data commands say what is wrong: damaged shards, empty inputs, stray positional arguments.</summary>
public class DataCommandErrorTests
{
    static Dictionary<string, IReadOnlyList<string>> Train(string file) => new() { ["train"] = new[] { file } };

    static void WriteZst(string path, string text)
    {
        using var f = File.Create(path);
        using var z = new ZstdSharp.CompressionStream(f);
        z.Write(Encoding.UTF8.GetBytes(text));
    }

    [Fact]
    public void A_truncated_zst_shard_is_reported_as_truncated_with_file_and_line()
    {
        using var dir = new TestPaths.TempDir();
        var text = string.Concat(Enumerable.Range(0, 400).Select(i => $"{{\"text\": \"document {i} {new string('x', i % 50)} {Guid.NewGuid()}\"}}\n"));
        WriteZst(dir.File("full.jsonl.zst"), text);
        var bytes = File.ReadAllBytes(dir.File("full.jsonl.zst"));
        File.WriteAllBytes(dir.File("cut.jsonl.zst"), bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => PackedDataset.Prepare(Train(dir.File("cut.jsonl.zst")), "brown-bpe", dir.File("packed")));
        Assert.Matches($"^{System.Text.RegularExpressions.Regex.Escape(dir.File("cut.jsonl.zst"))}, line \\d+: truncated zstd stream: the file ends inside a compressed frame: the shard is damaged", e.Message);
    }

    [Fact]
    public void Empty_input_says_so()
    {
        using var dir = new TestPaths.TempDir();
        File.WriteAllText(dir.File("empty.jsonl"), "");
        var e = Assert.Throws<InvalidDataException>(() => PackedDataset.Prepare(Train(dir.File("empty.jsonl")), "brown-bpe", dir.File("packed")));
        Assert.Equal($"split train: no documents in {dir.File("empty.jsonl")} (0 records from 1 file(s), no bad lines)", e.Message);
        File.WriteAllText(dir.File("bad.jsonl"), "not json\n");
        e = Assert.Throws<InvalidDataException>(() => PackedDataset.Prepare(Train(dir.File("bad.jsonl")), "brown-bpe", dir.File("packed2")));
        Assert.StartsWith($"split train: no documents in {dir.File("bad.jsonl")} (0 records from 1 file(s); skipped 1 bad line(s)", e.Message);
    }

    [Fact]
    public void Double_spaces_pack_inside_the_vocabulary()
    {
        using var dir = new TestPaths.TempDir();
        File.WriteAllText(dir.File("x.jsonl"), "{\"text\": \"two  spaces\\tand\\t\\ttabs   and 🙂\"}\n");
        var ds = PackedDataset.Prepare(Train(dir.File("x.jsonl")), "brown-bpe", dir.File("packed"));
        using var f = ds.Open("train");
        Assert.All(f.Read(0, (int)f.Count), id => Assert.InRange(id, 0, ds.Manifest.VocabSize - 1));
    }

    [Fact]
    public void Unknown_positional_arguments_are_rejected_like_unknown_options()
    {
        var stats = new DataStatsCommand();
        var e = Assert.Throws<CliException>(() => stats.Run(CommandLine.Parse(new[] { "some-file.jsonl.zst" }, stats.Switches)));
        Assert.Equal("unexpected argument 'some-file.jsonl.zst': this command takes options only (see --help; input files go after an option such as --train)", e.Message);
        var train = new TrainCommand();
        Assert.Throws<CliException>(() => train.Run(CommandLine.Parse(new[] { "smoke" }, train.Switches)));
    }
}
