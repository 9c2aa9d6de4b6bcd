using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Model;

/// <summary>On-disk format of a model's weights inside a checkpoint folder.</summary>
public enum WeightsFormat
{
    /// <summary>weights.bin (TorchSharp's own state-dict format) + tensors.json.</summary>
    TorchSharp,
    /// <summary>model.safetensors, whose <c>__metadata__</c> also holds the config.</summary>
    Safetensors,
}

/// <summary>
/// A model as one safetensors file: PyTorch-style keys (exactly the state dict's names), the config JSON in
/// <c>__metadata__["config"]</c>, <c>__metadata__["format"] = "pt"</c> (what Hugging Face tools expect). Loading checks
/// names and shapes first and reports every mismatch by name, with the file.
/// </summary>
public static class SafetensorsCheckpoint
{
    public const string FileName = "model.safetensors", ConfigKey = "config", Extension = ".safetensors";

    public static bool IsSafetensorsFile(string path) => path.EndsWith(Extension, StringComparison.OrdinalIgnoreCase) && File.Exists(path);

    /// <param name="dtype">convert floating-point weights to this dtype (e.g. BFloat16) before writing; null keeps them</param>
    public static void Save(StagFormerModel model, string path, ScalarType? dtype = null)
    {
        using var scope = torch.NewDisposeScope();
        var sd = model.state_dict().Select(kv => KeyValuePair.Create(kv.Key,
            dtype is { } d && kv.Value.is_floating_point() ? kv.Value.to(d) : kv.Value));
        Safetensors.Write(path, sd, new Dictionary<string, string> { ["format"] = "pt", [ConfigKey] = model.Config.ToJson() });
    }

    /// <summary>The config stored in the file's metadata; <paramref name="fallback"/> (e.g. from --config) when it has none.</summary>
    public static StagFormerConfig ReadConfig(string path, StagFormerConfig? fallback = null)
    {
        var header = Safetensors.ReadHeader(path);
        if (header.Metadata.TryGetValue(ConfigKey, out var json)) return StagFormerConfig.FromJson(json, $"{path} (__metadata__.{ConfigKey})");
        return fallback ?? throw new CheckpointException($"{path}: no __metadata__.{ConfigKey} in the file; give the model's config.json (stag import --config FILE)");
    }

    public static StagFormerModel Load(string path, StagFormerConfig? config = null, Device? device = null)
    {
        var model = new StagFormerModel(config ?? ReadConfig(path));
        LoadInto(model, path);
        return device is null ? model : model.to(device);
    }

    /// <summary>Loads the file's tensors into <paramref name="model"/> (converted to each parameter's dtype and device).</summary>
    public static void LoadInto(StagFormerModel model, string path)
    {
        var shapes = Safetensors.ReadHeader(path).Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.Shape);
        StateDictMatch.Check(model, shapes, path);
        var (tensors, _) = Safetensors.Read(path);
        try { StateDictMatch.CopyInto(model, tensors); }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
    }
}

/// <summary>Name-and-shape validation of a state dict against a model, and the copy into it.</summary>
public static class StateDictMatch
{
    /// <summary>Throws <see cref="CheckpointException"/> listing every tensor whose name or shape differs.</summary>
    public static void Check(StagFormerModel model, IReadOnlyDictionary<string, long[]> saved, string source)
    {
        var want = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var problems = new List<string>();
        foreach (var (name, shape) in want)
        {
            if (!saved.TryGetValue(name, out var s)) problems.Add($"{name}: missing from the checkpoint (model expects [{string.Join(", ", shape)}])");
            else if (!s.SequenceEqual(shape)) problems.Add($"{name}: checkpoint has [{string.Join(", ", s)}], model expects [{string.Join(", ", shape)}]");
        }
        foreach (var name in saved.Keys.Where(n => !want.ContainsKey(n)))
            problems.Add($"{name}: in the checkpoint but not in the model");
        if (problems.Count > 0)
            throw new CheckpointException($"checkpoint {source} does not match the model ({problems.Count} tensor(s)):\n  " + string.Join("\n  ", problems));
    }

    /// <summary>Copies each tensor into the parameter of the same name (after <see cref="Check"/>).</summary>
    public static void CopyInto(StagFormerModel model, IReadOnlyDictionary<string, Tensor> tensors)
    {
        using var ng = torch.no_grad();
        foreach (var (name, p) in model.state_dict()) p.copy_(tensors[name]);
    }
}
