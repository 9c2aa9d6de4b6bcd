using StagNotebooks.Model;
using StagNotebooks.Runtime;
using static TorchSharp.torch;

namespace StagNotebooks.Cli.Commands;

public sealed class ExportCommand : ICommand
{
    public string Name => "export";
    public string Summary => "write a checkpoint's weights as safetensors (config in __metadata__) or a PyTorch state dict (.pt)";
    public string Usage => """
        stag export --checkpoint <dir|file.safetensors> --out <file> [--format safetensors|pt] [--dtype keep|fp32|bf16]

          --format  safetensors (default): one file, PyTorch-style keys, the config JSON in __metadata__["config"];
                    read by interop/python/stagformer.py and by any safetensors reader.
                    pt: torch.save's format (model.load_state_dict(torch.load(file))); the config goes to
                    <out without extension>.config.json beside it.
          --dtype   convert the floating-point weights (default: keep the checkpoint's)
        """;

    public int Run(CommandLine args)
    {
        var checkpoint = args.Get("checkpoint") ?? throw new CliException("--checkpoint is required");
        var outPath = args.Get("out") ?? throw new CliException("--out is required");
        var format = args.Get("format", "safetensors");
        var dtypeName = args.Get("dtype", "keep");
        args.RejectUnknown();
        if (format is not ("safetensors" or "pt")) throw new CliException($"option --format: '{format}' is not one of safetensors, pt");
        ScalarType? dtype = dtypeName switch
        {
            "keep" => null, "fp32" => ScalarType.Float32, "bf16" => ScalarType.BFloat16,
            _ => throw new CliException($"option --dtype: '{dtypeName}' is not one of keep, fp32, bf16"),
        };

        TorchRuntime.EnsureLoaded();
        var model = Checkpoint.Load(checkpoint);
        if (format == "safetensors") SafetensorsCheckpoint.Save(model, outPath, dtype);
        else PyTorchStateDict.Save(model, outPath, dtype);
        long count = model.parameters().Sum(p => p.numel());
        Console.WriteLine($"wrote {outPath} ({format}, {count:N0} parameters, {new FileInfo(outPath).Length / 1e6:0.###} MB)"
                          + (format == "pt" ? $" and {PyTorchStateDict.ConfigPathFor(outPath)}" : ""));
        return 0;
    }
}
