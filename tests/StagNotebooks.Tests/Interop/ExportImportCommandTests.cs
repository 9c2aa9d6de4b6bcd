using StagNotebooks.Cli;
using StagNotebooks.Cli.Commands;
using StagNotebooks.Model;
using StagNotebooks.Tests.Model;
using TorchSharp;

namespace StagNotebooks.Tests.Interop;

/// <summary>`stag export` then `stag import`, both formats: the checkpoint that comes back gives the same logits.</summary>
public class ExportImportCommandTests
{
    static int Run(ICommand c, params string[] a) => c.Run(CommandLine.Parse(a, c.Switches));

    [Theory]
    [InlineData("safetensors", "bf16")]
    [InlineData("safetensors", "keep")]
    [InlineData("pt", "keep")]
    public void Export_then_import_gives_back_the_same_model(string format, string dtype)
    {
        using var dir = new TestPaths.TempDir();
        using var scope = torch.NewDisposeScope();
        using var ng = torch.no_grad();
        var c = Variants.Tiny with { Stacks = 3, Combination = StackCombination.LearnedLinear, CrossWindow = 3 };
        var m = Variants.Model(c);
        Checkpoint.Save(m, dir.File("ckpt"));
        var file = dir.File(format == "pt" ? "model.pt" : "model.safetensors");
        Assert.Equal(0, Run(new ExportCommand(), "--checkpoint", dir.File("ckpt"), "--format", format, "--dtype", dtype, "--out", file));
        if (format == "pt") Assert.True(File.Exists(dir.File("model.config.json")));
        Assert.Equal(0, Run(new ImportCommand(), file, "--out", dir.File("back")));

        var back = Checkpoint.Load(dir.File("back"));
        back.eval();
        Assert.Equal(c, back.Config);
        var tokens = Variants.Tokens(c);
        var want = dtype == "bf16" ? m.to(torch.ScalarType.BFloat16).to(torch.ScalarType.Float32) : m;   // bf16 rounding is the only change
        Assert.True(want.forward(new ModelInput(tokens)).Logits.eq(back.forward(new ModelInput(tokens)).Logits).all().item<bool>(),
            $"{format}/{dtype}: logits changed through export and import");
    }

    [Fact]
    public void Import_checks_names_and_shapes_against_the_given_config_and_writes_nothing_on_mismatch()
    {
        using var dir = new TestPaths.TempDir();
        SafetensorsCheckpoint.Save(new StagFormerModel(Variants.Tiny with { Stacks = 2 }), dir.File("m.safetensors"));
        File.WriteAllText(dir.File("other.json"), (Variants.Tiny with { Stacks = 2, FfnHidden = 48 }).ToJson());
        var e = Assert.Throws<CheckpointException>(() => Run(new ImportCommand(), dir.File("m.safetensors"), "--config", dir.File("other.json"), "--out", dir.File("back")));
        Assert.Contains($"checkpoint {dir.File("m.safetensors")} does not match the model", e.Message);
        Assert.Contains("stacks.1.layers.1.ffn.down_proj.weight: checkpoint has [16, 32], model expects [16, 48]", e.Message);
        Assert.False(Directory.Exists(dir.File("back")));
        Assert.Throws<CliException>(() => Run(new ExportCommand(), "--checkpoint", dir.File("m.safetensors"), "--format", "onnx", "--out", dir.File("x")));
    }
}
