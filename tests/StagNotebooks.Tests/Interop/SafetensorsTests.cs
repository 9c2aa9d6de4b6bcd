using StagNotebooks.Model;
using StagNotebooks.Tests.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Interop;

/// <summary>C# → safetensors → C#: every variant, both dtypes, and every way a file can be wrong.</summary>
public class SafetensorsTests
{
    /// <summary>Every invariant-test variant, plus the non-staggered control (CrossLag = 0).</summary>
    public static TheoryData<string> Names
    {
        get { var d = Variants.Names(); d.Add("p2-lag0"); return d; }
    }

    public static StagFormerConfig Get(string name) => name == "p2-lag0" ? Variants.Tiny with { Stacks = 2, CrossLag = 0 } : Variants.Get(name);

    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Theory, MemberData(nameof(Names))]
    public void Round_trip_gives_bit_identical_logits(string variant)
    {
        var c = Get(variant);
        using var dir = new TestPaths.TempDir();
        using var scope = torch.NewDisposeScope();
        using var ng = torch.no_grad();
        var m = Variants.Model(c);
        var tokens = Variants.Tokens(c);
        var before = m.forward(new ModelInput(tokens)).Logits;

        SafetensorsCheckpoint.Save(m, dir.File("m.safetensors"));
        var file = Checkpoint.Load(dir.File("m.safetensors"));                    // a bare file, through the checkpoint seam
        Checkpoint.Save(m, dir.File("ckpt"), WeightsFormat.Safetensors);
        var folder = Checkpoint.Load(dir.File("ckpt"));                           // config.json + model.safetensors
        Assert.True(File.Exists(dir.File("ckpt/model.safetensors")) && !File.Exists(dir.File("ckpt/weights.bin")));
        foreach (var loaded in new[] { file, folder })
        {
            loaded.eval();
            Assert.Equal(c, loaded.Config);
            Assert.True(Same(before, loaded.forward(new ModelInput(tokens)).Logits), $"{variant}: logits changed after a safetensors round trip");
        }
    }

    [Fact]
    public void Bf16_files_hold_exactly_the_bf16_weights_and_load_into_fp32_and_bf16_models()
    {
        using var dir = new TestPaths.TempDir();
        using var scope = torch.NewDisposeScope();
        var c = Variants.Tiny with { Stacks = 2 };
        var m = Variants.Model(c);
        SafetensorsCheckpoint.Save(m, dir.File("m.safetensors"), ScalarType.BFloat16);
        var header = Safetensors.ReadHeader(dir.File("m.safetensors"));
        Assert.All(header.Tensors.Values, e => Assert.Equal("BF16", e.Dtype));
        var (tensors, meta) = Safetensors.Read(dir.File("m.safetensors"));
        Assert.Equal(c, StagFormerConfig.FromJson(meta["config"]));
        foreach (var (name, p) in m.state_dict())
            Assert.True(Same(p.to(ScalarType.BFloat16), tensors[name]), $"{name} is not the bf16 rounding of the weight");

        var fp32 = SafetensorsCheckpoint.Load(dir.File("m.safetensors"));       // widened on load
        Assert.Equal(ScalarType.Float32, fp32.WeightDtype);
        var bf16 = new StagFormerModel(c).to(ScalarType.BFloat16);
        SafetensorsCheckpoint.LoadInto(bf16, dir.File("m.safetensors"));
        foreach (var (name, p) in bf16.state_dict())
            Assert.True(Same(p, tensors[name]), $"{name} changed on a bf16 → bf16 load");
    }

    [Fact]
    public void Overwriting_a_longer_file_leaves_a_valid_file_of_the_new_length()
    {
        using var dir = new TestPaths.TempDir();
        var path = dir.File("m.safetensors");
        SafetensorsCheckpoint.Save(new StagFormerModel(Variants.Tiny with { Stacks = 4 }), path);
        long big = new FileInfo(path).Length;
        var small = new StagFormerModel(Variants.Tiny with { Stacks = 1 });
        SafetensorsCheckpoint.Save(small, path);
        Assert.True(new FileInfo(path).Length < big);
        Assert.Equal(small.Config, SafetensorsCheckpoint.Load(path).Config);
        Assert.Single(Directory.GetFiles(dir.Path));   // no temporary file left behind
    }

    [Fact]
    public void A_truncated_or_corrupt_file_is_an_error_naming_it()
    {
        using var dir = new TestPaths.TempDir();
        var path = dir.File("m.safetensors");
        SafetensorsCheckpoint.Save(new StagFormerModel(Variants.Tiny with { Stacks = 2 }), path);
        var bytes = File.ReadAllBytes(path);

        File.WriteAllBytes(path, bytes[..^100]);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path));
        Assert.StartsWith($"{path}: not a valid safetensors file:", e.Message);
        Assert.Contains("truncated", e.Message);

        File.WriteAllBytes(path, bytes[..5]);
        Assert.Contains("shorter than the 8-byte header length", Assert.Throws<CheckpointException>(() => Checkpoint.Load(path)).Message);

        var corrupt = (byte[])bytes.Clone();
        corrupt[8] = (byte)'[';
        File.WriteAllBytes(path, corrupt);
        Assert.StartsWith($"{path}: not a valid safetensors file: the header is not", Assert.Throws<CheckpointException>(() => Checkpoint.Load(path)).Message);

        var huge = (byte[])bytes.Clone();
        BitConverter.GetBytes(ulong.MaxValue / 2).CopyTo(huge, 0);
        File.WriteAllBytes(path, huge);
        Assert.Contains("header length", Assert.Throws<CheckpointException>(() => Checkpoint.Load(path)).Message);
    }

    [Fact]
    public void Loading_into_a_different_config_names_the_mismatched_tensors_and_the_file()
    {
        using var dir = new TestPaths.TempDir();
        var path = dir.File("m.safetensors");
        SafetensorsCheckpoint.Save(new StagFormerModel(Variants.Tiny with { Stacks = 2 }), path);
        var other = new StagFormerModel(Variants.Tiny with { FfnHidden = 48, Stacks = 1 });
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.LoadInto(other, path));
        Assert.StartsWith($"checkpoint {path} does not match the model (", e.Message);
        Assert.Contains("stacks.0.layers.0.ffn.up_proj.weight: checkpoint has [32, 16], model expects [48, 16]", e.Message);
        Assert.Contains("stacks.1.layers.0.self_attn.qkv_proj.weight: in the checkpoint but not in the model", e.Message);
    }

    [Fact]
    public void A_file_without_config_metadata_needs_a_config()
    {
        using var dir = new TestPaths.TempDir();
        var path = dir.File("bare.safetensors");
        var m = new StagFormerModel(Variants.Tiny with { Stacks = 1 });
        Safetensors.Write(path, m.state_dict());
        var e = Assert.Throws<CheckpointException>(() => SafetensorsCheckpoint.Load(path));
        Assert.Contains($"{path}: no __metadata__.config", e.Message);
        Assert.Equal(m.Config, SafetensorsCheckpoint.Load(path, m.Config).Config);
    }
}
