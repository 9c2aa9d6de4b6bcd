using StagNotebooks.Model;
using StagNotebooks.Runtime;

namespace StagNotebooks.Cli.Commands;

public sealed class ImportCommand : ICommand
{
    public string Name => "import";
    public string Summary => "turn a PyTorch-trained model (.safetensors or torch.save'd .pt) into a workbench checkpoint";
    public string Usage => """
        stag import <file.safetensors|file.pt> --out <checkpoint dir> [--config config.json] [--format torchsharp|safetensors]

          --config  the model's config (StagFormerConfig JSON). Default: the safetensors file's __metadata__["config"],
                    or <file without extension>.config.json beside a .pt file.
          --format  weights inside the new checkpoint folder (default torchsharp: config.json + weights.bin)
        Every tensor is checked by name and shape against the config's model before anything is written.
        """;

    public int Run(CommandLine args)
    {
        if (args.Positional.Count != 1) throw new CliException("give exactly one file to import");
        var file = args.Positional[0];
        var outDir = args.Get("out") ?? throw new CliException("--out is required");
        var configPath = args.Get("config");
        var formatName = args.Get("format", "torchsharp");
        args.RejectUnknown();
        var format = formatName switch
        {
            "torchsharp" => WeightsFormat.TorchSharp, "safetensors" => WeightsFormat.Safetensors,
            _ => throw new CliException($"option --format: '{formatName}' is not one of torchsharp, safetensors"),
        };
        if (!File.Exists(file)) throw new CliException($"{file}: no such file");
        StagFormerConfig? given = configPath is null ? null : StagFormerConfig.FromJson(File.ReadAllText(configPath), configPath);

        TorchRuntime.EnsureLoaded();
        StagFormerModel model;
        if (file.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            model = SafetensorsCheckpoint.Load(file, given ?? SafetensorsCheckpoint.ReadConfig(file));   // --config wins over __metadata__
        else
        {
            var beside = PyTorchStateDict.ConfigPathFor(file);
            var config = given ?? (File.Exists(beside) ? StagFormerConfig.FromJson(File.ReadAllText(beside), beside)
                : throw new CliException($"{file}: a .pt state dict carries no config; give --config (looked for {beside})"));
            model = new StagFormerModel(config);
            var tensors = PyTorchStateDict.Read(file);
            StateDictMatch.Check(model, tensors.ToDictionary(kv => kv.Key, kv => kv.Value.shape), file);
            StateDictMatch.CopyInto(model, tensors);
        }
        Checkpoint.Save(model, outDir, format);
        Console.WriteLine($"imported {file} → {outDir} ({model.parameters().Sum(p => p.numel()):N0} parameters, {model.Config.Stacks} stack(s) × {model.Config.LayersPerStack} layers)");
        return 0;
    }
}
