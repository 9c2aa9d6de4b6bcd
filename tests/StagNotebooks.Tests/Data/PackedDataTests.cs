using StagNotebooks.Data;
using StagNotebooks.IO;
using TorchSharp;

namespace StagNotebooks.Tests.Data;

public class PackedDataTests
{
    static PackedDataset Small(TestPaths.TempDir dir)
    {
        var split = new[] { RepoPaths.BrownSplit("val") };
        return PackedDataset.Prepare(new Dictionary<string, IReadOnlyList<string>> { ["val"] = split }, "brown-bpe", dir.File("packed"));
    }

    [Fact]
    public void Documents_are_separated_by_end_of_text_and_preparing_again_is_a_cache_hit()
    {
        using var dir = new TestPaths.TempDir();
        var ds = Small(dir);
        var m = ds.Manifest.Splits["val"];
        using var f = ds.Open("val");
        Assert.Equal(m.Tokens, f.Count);
        var all = f.Read(0, (int)f.Count);
        Assert.Equal(m.Documents, all.Count(t => t == f.EndOfText));
        Assert.Equal(f.EndOfText, all[^1]);
        var tok = TokenizerFactory.Create("brown-bpe");
        var firstDoc = new PileReader(new[] { RepoPaths.BrownSplit("val") }).Read().First().Text;
        int firstEot = Array.IndexOf(all, (long)f.EndOfText);
        Assert.Equal(tok.Tokenizer.EncodeToIds(firstDoc).Select(i => (long)i), all.Take(firstEot));
        Assert.Equal(m.Subsets.Values.Sum(s => s.Tokens), m.Tokens);

        var log = new List<string>();
        var again = PackedDataset.Prepare(new Dictionary<string, IReadOnlyList<string>> { ["val"] = new[] { RepoPaths.BrownSplit("val") } }, "brown-bpe", dir.File("packed"), log: log.Add);
        Assert.StartsWith("cache hit:", Assert.Single(log));
        Assert.Equal(ds.Id, again.Id);
    }

    [Fact]
    public void A_wrong_magic_dtype_or_size_names_the_file_and_the_field()
    {
        using var dir = new TestPaths.TempDir();
        var good = dir.File("t.bin");
        TokenFile.Write(good, new[] { 1, 2, 3 }, 10, 9);
        var bytes = File.ReadAllBytes(good);

        var magic = (byte[])bytes.Clone(); magic[0] ^= 0xff; File.WriteAllBytes(dir.File("magic.bin"), magic);
        Assert.Equal($"{dir.File("magic.bin")}: header field magic is 0x{BitConverter.ToInt32(magic, 0):x8}, expected 0x53544147: not a StagNotebooks token file",
            Assert.Throws<InvalidDataException>(() => TokenFile.Open(dir.File("magic.bin"))).Message);

        var dtype = (byte[])bytes.Clone(); dtype[16] = 3; File.WriteAllBytes(dir.File("dtype.bin"), dtype);
        Assert.Equal($"{dir.File("dtype.bin")}: header field dtype is 3 bytes per token, expected 2 (uint16) or 4 (uint32)",
            Assert.Throws<InvalidDataException>(() => TokenFile.Open(dir.File("dtype.bin"))).Message);

        File.WriteAllBytes(dir.File("short.bin"), bytes[..^2]);
        Assert.Equal($"{dir.File("short.bin")}: header field count says 3 tokens (6 bytes) but the file holds 4 bytes after the header",
            Assert.Throws<InvalidDataException>(() => TokenFile.Open(dir.File("short.bin"))).Message);

        using var f = TokenFile.Open(good);
        Assert.Equal(new long[] { 1, 2, 3 }, f.Read(0, 3));
        Assert.Equal(2, f.BytesPerToken);
    }

    [Fact]
    public void The_sampler_is_a_pure_function_of_seed_and_index()
    {
        using var dir = new TestPaths.TempDir();
        var ds = Small(dir);
        using var f = ds.Open("val");
        var a = new RandomWindowBatches(f, 3);
        var b = new RandomWindowBatches(f, 3);
        var (x1, y1) = a.Batch(5, 4, 16, torch.CPU);
        a.Batch(6, 4, 16, torch.CPU);
        var (x2, y2) = b.Batch(5, 4, 16, torch.CPU);
        Assert.True(x1.eq(x2).all().item<bool>() && y1.eq(y2).all().item<bool>());
        Assert.True(x1.narrow(1, 1, 15).eq(y1.narrow(1, 0, 15)).all().item<bool>());   // targets are inputs shifted by one
        var (x3, _) = new RandomWindowBatches(f, 4).Batch(5, 4, 16, torch.CPU);
        Assert.False(x1.eq(x3).all().item<bool>());

        var windows = new SequentialWindows(f, 3.5).Windows(4, 16, 2, torch.CPU).ToList();
        Assert.Equal(2, windows.Count);
        Assert.Equal(f.Read(0, 16), windows[0].Inputs[0].data<long>().ToArray());
        Assert.Equal(f.Read(16, 16), windows[0].Inputs[1].data<long>().ToArray());
    }
}
