using System.Diagnostics;
using System.Text;
using StagNotebooks.Cli;
using StagNotebooks.Cli.Commands;
using StagNotebooks.Data;

namespace StagNotebooks.Tests.Data;

/// <summary>
/// Every bad line is located: `stag data prepare` and `stag data stats` list each one (file, line, kind, reason, its
/// first bytes) in &lt;split&gt;.rejects.jsonl beside their output, print the first few of each kind, keep every good
/// record, and --strict stops at the first one, naming it.
/// </summary>
public class RejectsTests
{
    static Dictionary<string, IReadOnlyList<string>> Train(params string[] files) => new() { ["train"] = files };

    static string Good(int i) => $"{{\"text\": \"good record {i}: a line of plain text\", \"meta\": {{\"pile_set_name\": \"{(i % 2 == 0 ? "Pile-CC" : "ArXiv")}\"}}}}";

    /// <summary>A shard with 40 lines: good ones, blanks, and bad lines of every per-line kind at known numbers.</summary>
    sealed class DirtyShard
    {
        public readonly List<string> GoodTexts = new();
        public readonly List<(long Line, string Kind, string Reason, int Bytes, string Head)> Bad = new();

        public DirtyShard(string path)
        {
            var bad = new Dictionary<int, byte[]>
            {
                [3] = Encoding.UTF8.GetBytes("{\"text\": \"cut off"),
                [7] = Encoding.UTF8.GetBytes("{\"meta\": {\"pile_set_name\": \"Github\"}}"),
                [11] = Encoding.UTF8.GetBytes("{\"text\": 42}"),
                [12] = new byte[] { (byte)'{', (byte)'"', (byte)'t', (byte)'e', (byte)'x', (byte)'t', (byte)'"', (byte)':', (byte)'"', (byte)'a', 0xFF, (byte)'\\', (byte)'"', (byte)'}' },
                [13] = Encoding.UTF8.GetBytes("[1, 2, 3]"),
                [20] = Encoding.UTF8.GetBytes("{\"text\": [\"a\", \"b\"]}"),
                [25] = Encoding.UTF8.GetBytes("not json at all\t" + new string('x', 100)),
                [30] = Encoding.UTF8.GetBytes("{\"text\": \"é\u0001\"}"),
                [31] = Encoding.UTF8.GetBytes("{\"text\": \"x\","),
                [38] = Encoding.UTF8.GetBytes("{\"text\": null}"),
            };
            using var f = File.Create(path);
            for (int line = 1; line <= 40; line++)
            {
                if (bad.TryGetValue(line, out var raw)) f.Write(raw);
                else if (line is 5 or 21) { }                                  // blank lines are not records and not bad
                else { var g = Good(line); GoodTexts.Add(g.Split('"')[3]); f.Write(Encoding.UTF8.GetBytes(g)); }
                f.WriteByte((byte)'\n');
            }
            Bad.Add((3, BadLine.InvalidJson, "invalid JSON: Expected end of string, but instead reached end of data", bad[3].Length, "{\"text\": \"cut off"));
            Bad.Add((7, BadLine.MissingText, "missing \"text\"", bad[7].Length, "{\"meta\": {\"pile_set_name\": \"Github\"}}"));
            Bad.Add((11, BadLine.TextNotString, "\"text\" is not a string (it is number)", bad[11].Length, "{\"text\": 42}"));
            Bad.Add((12, BadLine.InvalidUtf8, "invalid UTF-8: byte 0xFF at column 11", bad[12].Length, "{\"text\":\"a\\xFF\\\\\"}"));
            Bad.Add((13, BadLine.NotAnObject, "not a JSON object (it is array)", bad[13].Length, "[1, 2, 3]"));
            Bad.Add((20, BadLine.TextNotString, "\"text\" is not a string (it is array)", bad[20].Length, "{\"text\": [\"a\", \"b\"]}"));
            Bad.Add((25, BadLine.InvalidJson, "invalid JSON: 'not json at all\\x09xxxxxxxxxxxxxxxxxxxxxxxx…' is an invalid JSON literal. Expected the literal 'null'", bad[25].Length, "not json at all\\x09" + new string('x', 64)));
            Bad.Add((30, BadLine.InvalidJson, "invalid JSON: '0x01' is invalid within a JSON string. The string should be correctly escaped", bad[30].Length, "{\"text\": \"é\\x01\"}"));
            Bad.Add((31, BadLine.InvalidJson, "invalid JSON: Expected start of a property name or value, but instead reached end of data", bad[31].Length, "{\"text\": \"x\","));
            Bad.Add((38, BadLine.TextNotString, "\"text\" is not a string (it is null)", bad[38].Length, "{\"text\": null}"));
        }
    }

    [Fact]
    public void Every_bad_line_is_in_the_rejects_file_with_its_number_and_reason_and_every_good_record_is_packed()
    {
        using var dir = new TestPaths.TempDir();
        var shard = new DirtyShard(dir.File("dirty.jsonl"));
        var log = new List<string>();
        var ds = PackedDataset.Prepare(Train(dir.File("dirty.jsonl")), "brown-bpe", dir.File("packed"), log: log.Add);

        var rejects = RejectsFile.Read(dir.File("packed/train.rejects.jsonl"));
        Assert.Equal(shard.Bad, rejects.Select(b => (b.Line, b.Kind, b.Reason, b.Bytes, b.Head)));
        Assert.All(rejects, b => Assert.Equal(dir.File("dirty.jsonl"), b.File));

        var m = ds.Manifest.Splits["train"];
        Assert.Equal(10, m.BadLines);
        Assert.Equal("train.rejects.jsonl", m.Rejects);
        Assert.Equal(shard.GoodTexts.Count, m.Documents);
        var tok = TokenizerFactory.Create("brown-bpe");
        var expected = shard.GoodTexts.SelectMany(t => tok.Tokenizer.EncodeToIds(t).Append(tok.EndOfText)).Select(i => (long)i).ToArray();
        using (var packed = ds.Open("train")) Assert.Equal(expected, packed.Read(0, (int)packed.Count));

        // The log names the rejects file and shows the first 3 bad lines of each kind, with file, line and reason.
        var path = dir.File("dirty.jsonl");
        Assert.Equal($"train: 28 documents, {m.Bytes:N0} bytes → {m.Tokens:N0} tokens ({m.BytesPerToken:F2} bytes/token); 28 records from 1 file(s); " +
                     "skipped 10 bad line(s): 4 × invalid JSON; 1 × missing \"text\"; 3 × \"text\" is not a string; 1 × invalid UTF-8; 1 × not a JSON object; " +
                     $"every one listed in {dir.File("packed/train.rejects.jsonl")}", log[0]);
        Assert.Equal(new[]
        {
            "  the first 3 bad lines of each kind:",
            $"    {path}, line 3: {shard.Bad[0].Reason} | line starts: {shard.Bad[0].Head}",
            $"    {path}, line 7: missing \"text\" | line starts: {shard.Bad[1].Head}",
            $"    {path}, line 11: \"text\" is not a string (it is number) | line starts: {{\"text\": 42}}",
            $"    {path}, line 12: invalid UTF-8: byte 0xFF at column 11 | line starts: {shard.Bad[3].Head}",
            $"    {path}, line 13: not a JSON object (it is array) | line starts: [1, 2, 3]",
            $"    {path}, line 20: \"text\" is not a string (it is array) | line starts: {shard.Bad[5].Head}",
            $"    {path}, line 25: {shard.Bad[6].Reason} | line starts: {shard.Bad[6].Head}",
            $"    {path}, line 30: {shard.Bad[7].Reason} | line starts: {shard.Bad[7].Head}",
            $"    {path}, line 38: \"text\" is not a string (it is null) | line starts: {{\"text\": null}}",
        }, log.Skip(1));   // line 31, the 4th invalid JSON, is only in the file

        // A cache hit still names the file; cleaned inputs remove the stale list.
        log.Clear();
        PackedDataset.Prepare(Train(dir.File("dirty.jsonl")), "brown-bpe", dir.File("packed"), log: log.Add);
        Assert.Equal(new[] { $"cache hit: {dir.File("packed")} is up to date (brown-bpe)", $"train: 10 bad line(s), every one listed in {dir.File("packed/train.rejects.jsonl")}" }, log);
        File.WriteAllText(dir.File("dirty.jsonl"), Good(1) + "\n");
        Assert.Null(PackedDataset.Prepare(Train(dir.File("dirty.jsonl")), "brown-bpe", dir.File("packed")).Manifest.Splits["train"].Rejects);
        Assert.False(File.Exists(dir.File("packed/train.rejects.jsonl")));
    }

    [Fact]
    public void Rejects_name_the_file_of_each_bad_line_across_plain_and_zst_shards()
    {
        using var dir = new TestPaths.TempDir();
        File.WriteAllText(dir.File("a.jsonl"), Good(1) + "\n{\"text\": 1}\n");
        using (var f = File.Create(dir.File("b.jsonl.zst")))
        using (var z = new ZstdSharp.CompressionStream(f))
            z.Write(Encoding.UTF8.GetBytes("\n\n" + Good(2) + "\n{oops}\n"));
        PackedDataset.Prepare(Train(dir.File("a.jsonl"), dir.File("b.jsonl.zst")), "brown-bpe", dir.File("packed"));
        Assert.Equal(new[] { $"{dir.File("a.jsonl")}, line 2: \"text\" is not a string (it is number)", $"{dir.File("b.jsonl.zst")}, line 4: invalid JSON: 'o' is an invalid start of a property name. Expected a '\"'" },
                     RejectsFile.Read(dir.File("packed/train.rejects.jsonl")).Select(b => b.ToString()));
    }

    [Fact]
    public void Strict_prepare_fails_on_the_first_bad_line_naming_it_even_after_a_lenient_run_cached_the_split()
    {
        using var dir = new TestPaths.TempDir();
        new DirtyShard(dir.File("dirty.jsonl"));
        var prepare = new DataPrepareCommand();
        var args = new[] { "--train", dir.File("dirty.jsonl"), "--out", dir.File("packed"), "--strict" };
        var e = Assert.Throws<CliException>(() => prepare.Run(CommandLine.Parse(args, prepare.Switches)));
        const string line3 = "line 3: invalid JSON: Expected end of string, but instead reached end of data (the line starts: {\"text\": \"cut off)";
        Assert.Equal($"--strict: {dir.File("dirty.jsonl")}, {line3}", e.Message);
        Assert.False(File.Exists(dir.File("packed/manifest.json")));
        Assert.False(File.Exists(dir.File("packed/train.rejects.jsonl")));

        PackedDataset.Prepare(Train(dir.File("dirty.jsonl")), "brown-bpe", dir.File("packed"));   // lenient: cached with 10 bad lines
        e = Assert.Throws<CliException>(() => prepare.Run(CommandLine.Parse(args, prepare.Switches)));
        Assert.Equal($"--strict: {dir.File("dirty.jsonl")}, {line3}", e.Message);
    }

    [Fact]
    public async Task Stats_writes_the_rejects_beside_its_packed_output_and_names_the_file()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        using var dir = new TestPaths.TempDir();
        new DirtyShard(dir.File("dirty.jsonl"));
        var tokenizer = TestPaths.Repo("data", "tokenizer");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir.Path };
        foreach (var a in new[] { TestPaths.Stag, "data", "stats", "--tokenizer", "bpe:" + tokenizer, "--train", dir.File("dirty.jsonl") }) psi.ArgumentList.Add(a);
        psi.Environment["STAGNOTEBOOKS_ROOT"] = dir.Path;   // its data/packed/ is the temporary folder's
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = await p.StandardOutput.ReadToEndAsync();
        var errors = await stderr;
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, errors + stdout);
        var folder = Path.Combine(dir.Path, "data", "packed", "stats-bpe_" + tokenizer.Replace('/', '_'));
        var rejects = Path.Combine(folder, "train.rejects.jsonl");
        Assert.Equal(new long[] { 3, 7, 11, 12, 13, 20, 25, 30, 31, 38 }, RejectsFile.Read(rejects).Select(b => b.Line));
        Assert.Contains($"train: 10 bad line(s) skipped, every one listed in {rejects}", stdout);
        Assert.Contains($"    {dir.File("dirty.jsonl")}, line 7: missing \"text\" | line starts: ", errors);
    }

    [Fact]
    public void Escape_shows_the_first_bytes_unambiguously()
    {
        Assert.Equal("a\\\\b\\x0Aé\\xC3", BadLine.Escape(new byte[] { (byte)'a', (byte)'\\', (byte)'b', (byte)'\n', 0xC3, 0xA9, 0xC3 }));
        Assert.Equal("ab", BadLine.Escape(Encoding.UTF8.GetBytes("abé"), maxBytes: 3));   // é (2 bytes) would cross the limit
        Assert.Equal(new string('x', 80), BadLine.Escape(Encoding.UTF8.GetBytes(new string('x', 200))));
    }
}
