using System.Text.Json;
using StagNotebooks.Data;
using StagNotebooks.Model;
using StagNotebooks.Workbench;
using TorchSharp;
using static TorchSharp.torch;
using StagNotebooks.Experiments;

namespace StagNotebooks.Tests.Interop;

/// <summary>
/// interop/python/packed.py reads the workbench's packed token files as the C# trainer does: training batch i of a
/// seed (.NET's seeded System.Random reproduced in Python) and the validation windows are the same tokens, for uint16
/// and uint32 files; a damaged header is an error naming the file and the field. Needs a python3 with torch (see
/// <see cref="PythonTorch"/>): mandatory when CI=true.
/// </summary>
public class PackedReaderTests
{
    static void AssertSame(string what, Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.eq(actual).all().item<bool>(), $"{what}: Python's tokens differ from C#'s");
    }

    static (Tensor Inputs, Tensor Targets) PythonBatches(string python, string data, string outFile, long seed, long[] indices, int batch, int context, string split = "train")
    {
        var args = new List<string> { PyTraining.PackedScript, "batch", data, outFile, "--split", split, "--seed", seed.ToString(), "--batch", batch.ToString(), "--context", context.ToString(), "--index" };
        args.AddRange(indices.Select(i => i.ToString()));
        PythonTorch.Run(python, args.ToArray());
        var t = Safetensors.Read(outFile).Tensors;
        return (t["inputs"], t["targets"]);
    }

    [Fact]
    public void Python_reads_the_CSharp_trainers_batches_and_validation_windows_from_the_bundled_data()
    {
        if (PythonTorch.Require(nameof(Python_reads_the_CSharp_trainers_batches_and_validation_windows_from_the_bundled_data)) is not { } python) return;
        using var dir = new TestPaths.TempDir();
        using var scope = torch.NewDisposeScope();
        var data = ExperimentRuns.Data();
        using var train = data.Open("train");
        using var val = data.Open("val");
        long[] indices = { 0, 1, 2, 49, 1_000_003, 123_456_789_012 };
        // Seeds where the (int) cast of seed * 1000003 + index * 7919 + 17 wraps, negative seeds included.
        foreach (long seed in new long[] { 1, 5, 2_147, -3, 9_876_543_210 })
        {
            var source = new RandomWindowBatches(train, seed);
            var want = indices.Select(i => source.Batch(i, 4, 32, torch.CPU)).ToList();
            var (x, y) = PythonBatches(python, data.Folder, dir.File($"b{seed}.safetensors"), seed, indices, 4, 32);
            AssertSame($"inputs, seed {seed}", torch.cat(want.Select(w => w.Inputs).ToArray()), x);
            AssertSame($"targets, seed {seed}", torch.cat(want.Select(w => w.Targets).ToArray()), y);
        }

        PythonTorch.Run(python, PyTraining.PackedScript, "windows", data.Folder, dir.File("val.safetensors"), "--batch", "16", "--context", "128", "--max-batches", "3");
        var windows = new SequentialWindows(val, 3.5).Windows(16, 128, 3, torch.CPU).ToList();
        var got = Safetensors.Read(dir.File("val.safetensors")).Tensors;
        AssertSame("validation inputs", torch.cat(windows.Select(w => w.Inputs).ToArray()), got["inputs"]);
        AssertSame("validation targets", torch.cat(windows.Select(w => w.Targets).ToArray()), got["targets"]);
    }

    static void WriteManifest(string folder, int vocab, long trainTokens, long valTokens) =>
        File.WriteAllText(Path.Combine(folder, "manifest.json"), JsonSerializer.Serialize(new DatasetManifest(PackedDataset.ManifestVersion, "test", vocab, 0, vocab <= 65536 ? 2 : 4,
            new Dictionary<string, SplitManifest>
            {
                ["train"] = new("train.bin", Array.Empty<SourceFile>(), 1, trainTokens * 4, trainTokens, 0, 4.0, new Dictionary<string, SubsetCounts>()),
                ["val"] = new("val.bin", Array.Empty<SourceFile>(), 1, valTokens * 4, valTokens, 0, 4.0, new Dictionary<string, SubsetCounts>()),
            })));

    [Fact]
    public void Python_reads_uint32_token_files_and_names_the_file_and_field_of_a_damaged_header()
    {
        if (PythonTorch.Require(nameof(Python_reads_uint32_token_files_and_names_the_file_and_field_of_a_damaged_header)) is not { } python) return;
        using var dir = new TestPaths.TempDir();
        using var scope = torch.NewDisposeScope();
        const int vocab = 100_000;   // > 65536: four bytes per token
        var rng = new Random(4);
        var tokens = Enumerable.Range(0, 5000).Select(_ => rng.Next(vocab)).ToList();
        Assert.Contains(tokens, t => t > 65535);
        TokenFile.Write(dir.File("train.bin"), tokens, vocab, 0);
        TokenFile.Write(dir.File("val.bin"), tokens.Take(700).ToList(), vocab, 0);
        WriteManifest(dir.Path, vocab, tokens.Count, 700);
        using (var train = TokenFile.Open(dir.File("train.bin")))
        {
            Assert.Equal(4, train.BytesPerToken);
            var source = new RandomWindowBatches(train, 11);
            var want = new long[] { 0, 7 }.Select(i => source.Batch(i, 3, 16, torch.CPU)).ToList();
            var (x, y) = PythonBatches(python, dir.Path, dir.File("b.safetensors"), 11, new long[] { 0, 7 }, 3, 16);
            AssertSame("uint32 inputs", torch.cat(want.Select(w => w.Inputs).ToArray()), x);
            AssertSame("uint32 targets", torch.cat(want.Select(w => w.Targets).ToArray()), y);
        }

        // Damage the header field by field: each error names the file and the field, as TokenFile.Open's do.
        var good = File.ReadAllBytes(dir.File("train.bin"));
        void Damaged(string what, Action<byte[]> change, int? length, string field)
        {
            var bytes = (byte[])good.Clone();
            change(bytes);
            File.WriteAllBytes(dir.File("train.bin"), length is int n ? bytes[..n] : bytes);
            var (code, _, stderr) = PythonTorch.TryRun(python, PyTraining.PackedScript, "info", dir.Path);
            Assert.True(code == 2, $"{what}: packed.py exited {code}: {stderr}");
            Assert.Contains(dir.File("train.bin"), stderr);
            Assert.Contains(field, stderr);
            Assert.DoesNotContain("Traceback", stderr);
        }
        Damaged("magic", b => b[0] ^= 0xff, null, "header field magic");
        Damaged("version", b => b[4] = 9, null, "header field version");
        Damaged("dtype", b => b[16] = 3, null, "header field dtype");
        Damaged("truncated", _ => { }, good.Length - 6, "header field count");
        Damaged("no header", _ => { }, 100, "too short for a token file header");
        File.WriteAllBytes(dir.File("train.bin"), good);

        File.WriteAllText(dir.File("manifest.json"), "{\"Version\": 7}");
        var (c2, _, e2) = PythonTorch.TryRun(python, PyTraining.PackedScript, "info", dir.Path);
        Assert.Equal(2, c2);
        Assert.Contains("manifest.json: field Version", e2);
    }
}
