using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Model;

/// <summary>
/// A model checkpoint folder: config.json, weights.bin (TorchSharp state dict) and tensors.json (every tensor's
/// name and shape, read before loading so a mismatch is reported by name), or config.json + model.safetensors
/// (<see cref="WeightsFormat.Safetensors"/>); a bare .safetensors file also loads. Written atomically: a temporary
/// folder is filled, then renamed over the old one.
/// </summary>
public static class Checkpoint
{
    public const string ConfigFile = "config.json", WeightsFile = "weights.bin", TensorsFile = "tensors.json";

    public static void Save(StagFormerModel model, string folder, WeightsFormat format = WeightsFormat.TorchSharp)
    {
        var full = Path.GetFullPath(folder);
        var tmp = full.TrimEnd(Path.DirectorySeparatorChar) + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(tmp);
        WriteFiles(model, tmp, format);
        ReplaceFolder(tmp, full);
    }

    /// <summary>Writes the model's files into an existing folder (not atomic: callers write into a temporary folder).</summary>
    public static void WriteFiles(StagFormerModel model, string folder, WeightsFormat format = WeightsFormat.TorchSharp)
    {
        File.WriteAllText(Path.Combine(folder, ConfigFile), model.Config.ToJson());
        if (format == WeightsFormat.Safetensors) { SafetensorsCheckpoint.Save(model, Path.Combine(folder, SafetensorsCheckpoint.FileName)); return; }
        File.WriteAllText(Path.Combine(folder, TensorsFile), JsonSerializer.Serialize(Shapes(model), new JsonSerializerOptions { WriteIndented = true }));
        model.save(Path.Combine(folder, WeightsFile));
    }

    /// <summary>Renames <paramref name="tmp"/> to <paramref name="target"/>, keeping the old folder until the new one is in place.</summary>
    public static void ReplaceFolder(string tmp, string target)
    {
        string? old = null;
        if (Directory.Exists(target))
        {
            old = target.TrimEnd(Path.DirectorySeparatorChar) + ".old-" + Guid.NewGuid().ToString("N")[..8];
            Directory.Move(target, old);
        }
        Directory.Move(tmp, target);
        if (old != null) Directory.Delete(old, recursive: true);
    }

    public static StagFormerConfig ReadConfig(string folder)
    {
        if (SafetensorsCheckpoint.IsSafetensorsFile(folder)) return SafetensorsCheckpoint.ReadConfig(folder);   // a bare .safetensors file
        var path = Path.Combine(folder, ConfigFile);
        if (!File.Exists(path)) throw new CheckpointException($"{path}: no such file (is '{folder}' a checkpoint folder?)");
        return StagFormerConfig.FromJson(File.ReadAllText(path), path);
    }

    /// <summary>Loads a checkpoint as the model its config describes.</summary>
    public static StagFormerModel Load(string folder, Device? device = null)
    {
        var model = new StagFormerModel(ReadConfig(folder));
        LoadInto(model, folder);
        return device is null ? model : model.to(device);
    }

    /// <summary>Loads weights into an existing model; fails naming every tensor whose name or shape differs.</summary>
    public static void LoadInto(StagFormerModel model, string folder)
    {
        // The one format seam: a .safetensors file, or a folder holding model.safetensors, instead of weights.bin.
        var st = SafetensorsCheckpoint.IsSafetensorsFile(folder) ? folder : Path.Combine(folder, SafetensorsCheckpoint.FileName);
        if (File.Exists(st)) { SafetensorsCheckpoint.LoadInto(model, st); return; }
        var tensorsPath = Path.Combine(folder, TensorsFile);
        if (!File.Exists(tensorsPath)) throw new CheckpointException($"{tensorsPath}: no such file (is '{folder}' a checkpoint folder?)");
        var saved = JsonSerializer.Deserialize<Dictionary<string, long[]>>(File.ReadAllText(tensorsPath))
                    ?? throw new CheckpointException($"{tensorsPath}: empty");
        var want = Shapes(model);
        var problems = new List<string>();
        foreach (var (name, shape) in want)
        {
            if (!saved.TryGetValue(name, out var s)) problems.Add($"{name}: missing from the checkpoint (model expects [{string.Join(", ", shape)}])");
            else if (!s.SequenceEqual(shape)) problems.Add($"{name}: checkpoint has [{string.Join(", ", s)}], model expects [{string.Join(", ", shape)}]");
        }
        foreach (var name in saved.Keys.Where(n => !want.ContainsKey(n)))
            problems.Add($"{name}: in the checkpoint but not in the model");
        if (problems.Count > 0)
            throw new CheckpointException($"checkpoint {folder} does not match the model ({problems.Count} tensor(s)):\n  " + string.Join("\n  ", problems));
        model.load(Path.Combine(folder, WeightsFile));
    }

    static Dictionary<string, long[]> Shapes(StagFormerModel model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
}

public sealed class CheckpointException(string message) : Exception(message);
