using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Model;

public class CheckpointTests
{
    [Fact]
    public void Checkpoint_round_trip_gives_bit_identical_logits()
    {
        using var dir = new TestPaths.TempDir();
        var c = Variants.Tiny with { Stacks = 2, Weights = WeightSharing.Shared, CrossWindow = 3 };
        using var scope = torch.NewDisposeScope();
        using var ng = torch.no_grad();
        var m = Variants.Model(c);
        var tokens = Variants.Tokens(c);
        var before = m.forward(new ModelInput(tokens)).Logits;
        Checkpoint.Save(m, dir.File("ckpt"));
        Checkpoint.Save(m, dir.File("ckpt"));   // overwriting keeps one folder
        Assert.Single(Directory.GetDirectories(dir.Path));
        var loaded = Checkpoint.Load(dir.File("ckpt"));
        loaded.eval();
        Assert.Equal(c, loaded.Config);
        Assert.True(before.eq(loaded.forward(new ModelInput(tokens)).Logits).all().item<bool>(), "logits changed after a checkpoint round trip");
    }

    [Fact]
    public void Loading_into_a_different_config_names_the_mismatched_tensors()
    {
        using var dir = new TestPaths.TempDir();
        var c = Variants.Tiny with { Stacks = 2 };
        Checkpoint.Save(new StagFormerModel(c), dir.File("ckpt"));
        var other = new StagFormerModel(c with { FfnHidden = 48, Stacks = 1 });
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.LoadInto(other, dir.File("ckpt")));
        Assert.Contains("stacks.0.layers.0.ffn.up_proj.weight: checkpoint has [32, 16], model expects [48, 16]", e.Message);
        Assert.Contains("stacks.1.layers.0.self_attn.qkv_proj.weight: in the checkpoint but not in the model", e.Message);
        Assert.StartsWith($"checkpoint {dir.File("ckpt")} does not match the model (", e.Message);
    }

    [Fact]
    public void A_folder_without_a_checkpoint_is_named_in_the_error()
    {
        using var dir = new TestPaths.TempDir();
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(dir.Path));
        Assert.Equal($"{Path.Combine(dir.Path, "config.json")}: no such file (is '{dir.Path}' a checkpoint folder?)", e.Message);
    }
}
