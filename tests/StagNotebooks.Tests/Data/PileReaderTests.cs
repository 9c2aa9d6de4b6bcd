using System.Text;
using StagNotebooks.Data;
using StagNotebooks.IO;

namespace StagNotebooks.Tests.Data;

public class PileReaderTests
{
    static void WriteZst(string path, byte[] content)
    {
        using var fs = File.Create(path);
        using var z = new ZstdSharp.CompressionStream(fs, 3);
        z.Write(content);
    }

    [Fact]
    public void Plain_and_zst_shards_give_identical_records()
    {
        using var dir = new TestPaths.TempDir();
        var lines = new PileReader(new[] { RepoPaths.BrownSplit("val") }).Read().Take(5).ToList();
        var jsonl = string.Join("\n", lines.Select(r => System.Text.Json.JsonSerializer.Serialize(new { text = r.Text, meta = new { pile_set_name = r.Subset } }))) + "\n";
        File.WriteAllText(dir.File("a.jsonl"), jsonl);
        WriteZst(dir.File("a.jsonl.zst"), Encoding.UTF8.GetBytes(jsonl));
        var plain = new PileReader(new[] { dir.File("a.jsonl") }).Read().Select(r => (r.Text, r.Subset, r.Line)).ToList();
        var zst = new PileReader(new[] { dir.File("a.jsonl.zst") }).Read().Select(r => (r.Text, r.Subset, r.Line)).ToList();
        Assert.Equal(5, plain.Count);
        Assert.Equal(plain, zst);
        Assert.Equal(lines.Select(l => l.Text), plain.Select(p => p.Text));
    }

    [Fact]
    public void Each_kind_of_bad_line_is_reported_with_its_line_and_the_good_lines_are_kept()
    {
        using var dir = new TestPaths.TempDir();
        var path = dir.File("dirty.jsonl");
        using (var f = File.Create(path))
        {
            void Line(string s) { var b = Encoding.UTF8.GetBytes(s + "\n"); f.Write(b); }
            Line("{\"text\": \"good one\", \"meta\": {\"pile_set_name\": \"Pile-CC\"}}");   // 1
            Line("{\"text\": \"broken\"");                                                // 2 invalid JSON
            Line("{\"meta\": {\"pile_set_name\": \"ArXiv\"}}");                            // 3 missing text
            Line("{\"text\": 42}");                                                         // 4 non-string text
            f.Write(new byte[] { (byte)'{', (byte)'"', (byte)'t', (byte)'e', (byte)'x', (byte)'t', (byte)'"', (byte)':', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)'}', (byte)'\n' });   // 5 invalid UTF-8
            Line("");                                                                       // 6 blank: ignored
            Line("{\"text\": \"good two\", \"meta\": {\"pile_set_name\": \"Github\"}}");     // 7
        }
        var reader = new PileReader(new[] { path });
        var good = reader.Read().ToList();
        Assert.Equal(new[] { ("good one", "Pile-CC", 1L), ("good two", "Github", 7L) }, good.Select(r => (r.Text, r.Subset, r.Line)));
        Assert.Equal(new[] { 2L, 3L, 4L, 5L }, reader.Examples.Select(b => b.Line));
        Assert.StartsWith($"{path}, line 2: invalid JSON", reader.Examples[0].ToString());
        Assert.Equal($"{path}, line 3: missing \"text\"", reader.Examples[1].ToString());
        Assert.Equal($"{path}, line 4: \"text\" is not a string (it is number)", reader.Examples[2].ToString());
        Assert.Equal($"{path}, line 5: invalid UTF-8: byte 0xC3 at column 10", reader.Examples[3].ToString());
        Assert.Equal("{\"text\":\"\\xC3(\"}", reader.Examples[3].Head);   // the invalid byte escaped, the rest as text
        Assert.Equal("2 records from 1 file(s); skipped 4 bad line(s): 1 × invalid JSON; 1 × missing \"text\"; 1 × \"text\" is not a string; 1 × invalid UTF-8", reader.Summary);

        var strict = new PileReader(new[] { path }, strict: true);
        var e = Assert.Throws<PileFormatException>(() => strict.Read().ToList());
        Assert.Equal(2, e.Bad.Line);
        Assert.Equal($"{path}, line 2: invalid JSON: Expected depth to be zero at the end of the JSON payload. There is an open JSON object or array that should be closed (the line starts: {{\"text\": \"broken\")", e.Message);
    }

    [Fact]
    public void A_truncated_zstd_stream_is_detected_after_the_last_whole_line()
    {
        using var dir = new TestPaths.TempDir();
        var content = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 100_000).Select(i => $"{{\"text\": \"document number {i} with a little text, {i * 7919 % 10007} and {i * 104729 % 1299709}\"}}\n")));
        WriteZst(dir.File("full.jsonl.zst"), content);
        var bytes = File.ReadAllBytes(dir.File("full.jsonl.zst"));
        File.WriteAllBytes(dir.File("cut.jsonl.zst"), bytes[..(bytes.Length / 2)]);
        var reader = new PileReader(new[] { dir.File("cut.jsonl.zst") });
        var got = reader.Read().ToList();
        Assert.InRange(got.Count, 1, 99_999);
        var bad = Assert.Single(reader.Examples);
        Assert.Same(bad, reader.Damaged);
        Assert.Equal($"{dir.File("cut.jsonl.zst")}, line {got.Count + 1}: truncated zstd stream: the file ends inside a compressed frame", bad.ToString());
    }

    [Fact]
    public void Subsets_filter_and_globs_expand_in_order()
    {
        var reader = new PileReader(new[] { Path.Combine(RepoPaths.Data("brown"), "*.jsonl.zst") }, subsets: new[] { "news" });
        Assert.Equal(new[] { "test", "train", "val" }, reader.Files.Select(f => Path.GetFileName(f).Split('.')[0]));
        var docs = reader.Read().ToList();
        Assert.All(docs, d => Assert.Equal("news", d.Subset));
        Assert.Equal(44, docs.Count);   // the Brown news genre has 44 documents
        var e = Assert.Throws<FileNotFoundException>(() => new PileReader(new[] { "nowhere/*.jsonl" }));
        Assert.Equal("nowhere/*.jsonl: matches no file", e.Message);
    }
}
