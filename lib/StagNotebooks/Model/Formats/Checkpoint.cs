using System.Security.Cryptography;
using System.Text.Json;
using StagNotebooks.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Model;

/// <summary>
/// A model checkpoint folder: config.json, weights.bin (TorchSharp state dict) and tensors.json (every tensor's
/// name and shape, read before loading so a mismatch is reported by name) — or config.json + model.safetensors
/// (<see cref="WeightsFormat.Safetensors"/>; a bare .safetensors file also loads) — and manifest.json (each file's size and
/// SHA-256, written last: a truncated or corrupted file is named before anything is loaded). A checkpoint path may
/// also be a pointer file (checkpoints/last, checkpoints/best) whose first line names a folder beside it.
/// </summary>
public static class Checkpoint
{
    public const string ConfigFile = "config.json", WeightsFile = "weights.bin", TensorsFile = "tensors.json", ManifestFile = "manifest.json";

    /// <summary>Saves a standalone model checkpoint: written into a temporary folder, flushed, then renamed into place.</summary>
    public static void Save(StagFormerModel model, string folder, WeightsFormat format = WeightsFormat.TorchSharp)
    {
        var full = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar);
        var tmp = full + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(tmp);
        try
        {
            WriteFiles(model, tmp, format);
            Seal(tmp);
            string? old = null;
            if (Directory.Exists(full)) Directory.Move(full, old = full + ".old-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.Move(tmp, full);
            AtomicFile.FlushDirectory(Path.GetDirectoryName(full)!);
            if (old != null) Directory.Delete(old, recursive: true);
        }
        finally { if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true); }
    }

    /// <summary>Writes the model's files into an existing folder (not atomic: callers write into a temporary folder, then <see cref="Seal"/> it).</summary>
    public static void WriteFiles(StagFormerModel model, string folder, WeightsFormat format = WeightsFormat.TorchSharp)
    {
        File.WriteAllText(Path.Combine(folder, ConfigFile), model.Config.ToJson());
        if (format == WeightsFormat.Safetensors) { SafetensorsCheckpoint.Save(model, Path.Combine(folder, SafetensorsCheckpoint.FileName)); return; }
        File.WriteAllText(Path.Combine(folder, TensorsFile), JsonSerializer.Serialize(Shapes(model), new JsonSerializerOptions { WriteIndented = true }));
        WriteWeights(model, Path.Combine(folder, WeightsFile));
    }

    /// <summary>The one place the weights file format lives (a format such as safetensors swaps in here).</summary>
    public static void WriteWeights(StagFormerModel model, string path) => model.save(path);

    /// <summary>Reads a weights file written by <see cref="WriteWeights"/> into <paramref name="model"/>.</summary>
    public static void ReadWeights(StagFormerModel model, string path) => model.load(path);

    /// <summary>Writes manifest.json (size and SHA-256 of every other file) and flushes every file and the folder to disk.</summary>
    public static void Seal(string folder)
    {
        var entries = Directory.GetFiles(folder).Where(f => Path.GetFileName(f) != ManifestFile).Order(StringComparer.Ordinal)
            .ToDictionary(f => Path.GetFileName(f), f => new ManifestEntry(new FileInfo(f).Length, Hash(f)));
        File.WriteAllText(Path.Combine(folder, ManifestFile), JsonSerializer.Serialize(entries, new JsonSerializerOptions { WriteIndented = true }));
        AtomicFile.FlushTree(folder);
    }

    /// <summary>Checks every file against manifest.json; throws naming the first file that is missing, truncated or corrupt.</summary>
    public static void Verify(string folder)
    {
        var path = Path.Combine(folder, ManifestFile);
        if (!File.Exists(path)) return;   // written before manifests existed: nothing to check against
        Dictionary<string, ManifestEntry> entries;
        try { entries = JsonSerializer.Deserialize<Dictionary<string, ManifestEntry>>(File.ReadAllText(path)) ?? throw new JsonException("empty"); }
        catch (JsonException e) { throw new CheckpointException($"{path}: corrupt ({e.Message})"); }
        foreach (var (name, want) in entries)
        {
            var f = Path.Combine(folder, name);
            if (!File.Exists(f)) throw new CheckpointException($"{f}: missing (listed in {ManifestFile})");
            long size = new FileInfo(f).Length;
            if (size != want.Bytes) throw new CheckpointException($"{f}: truncated or overwritten ({size:N0} bytes, {want.Bytes:N0} written)");
            if (Hash(f) != want.Sha256) throw new CheckpointException($"{f}: corrupt (SHA-256 differs from the one written)");
        }
    }

    sealed record ManifestEntry(long Bytes, string Sha256);

    static string Hash(string file)
    {
        using var s = File.OpenRead(file);
        return Convert.ToHexString(SHA256.HashData(s)).ToLowerInvariant();
    }

    /// <summary>
    /// A checkpoint folder as is; a pointer file (checkpoints/last, checkpoints/best) as the folder its first line
    /// names; a training run's folder (it holds a checkpoints/last pointer; its config.json is the training config) as
    /// its last checkpoint.
    /// </summary>
    public static string Resolve(string path)
    {
        var runLast = Path.Combine(path, "checkpoints", "last");
        if (Directory.Exists(path) && File.Exists(runLast)) return Resolve(runLast);
        if (Directory.Exists(path) || !File.Exists(path)) return path;
        var name = File.ReadLines(path).FirstOrDefault()?.Trim();
        if (string.IsNullOrEmpty(name)) throw new CheckpointException($"{path}: an empty checkpoint pointer");
        return Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, name);
    }

    /// <summary>Whether <paramref name="path"/> (a folder or a pointer) leads to a checkpoint.</summary>
    public static bool Exists(string path) => File.Exists(Path.Combine(Resolve(path), ConfigFile));

    public static StagFormerConfig ReadConfig(string folder)
    {
        if (SafetensorsCheckpoint.IsSafetensorsFile(folder)) return SafetensorsCheckpoint.ReadConfig(folder);   // a bare .safetensors file
        folder = Resolve(folder);
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

    /// <summary>Loads weights into an existing model; fails naming every tensor whose name or shape differs, or the damaged file.</summary>
    public static void LoadInto(StagFormerModel model, string folder)
    {
        if (!SafetensorsCheckpoint.IsSafetensorsFile(folder)) folder = Resolve(folder);
        // The format seam: a .safetensors file, or a folder holding model.safetensors, instead of weights.bin.
        if (SafetensorsCheckpoint.IsSafetensorsFile(folder)) { SafetensorsCheckpoint.LoadInto(model, folder); return; }
        var st = Path.Combine(folder, SafetensorsCheckpoint.FileName);
        if (File.Exists(st)) { Verify(folder); SafetensorsCheckpoint.LoadInto(model, st); return; }
        var tensorsPath = Path.Combine(folder, TensorsFile);
        if (!File.Exists(tensorsPath)) throw new CheckpointException($"{tensorsPath}: no such file (is '{folder}' a checkpoint folder?)");
        Verify(folder);
        Dictionary<string, long[]> saved;
        try { saved = JsonSerializer.Deserialize<Dictionary<string, long[]>>(File.ReadAllText(tensorsPath)) ?? throw new JsonException("empty"); }
        catch (JsonException e) { throw new CheckpointException($"{tensorsPath}: corrupt ({e.Message})"); }
        StateDictMatch.Check(model, saved, folder);
        var weights = Path.Combine(folder, WeightsFile);
        try { ReadWeights(model, weights); }
        catch (Exception e) when (e is not CheckpointException) { throw new CheckpointException($"{weights}: unreadable ({e.GetType().Name}: {e.Message})"); }
    }

    static Dictionary<string, long[]> Shapes(StagFormerModel model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
}

public sealed class CheckpointException(string message) : Exception(message);
