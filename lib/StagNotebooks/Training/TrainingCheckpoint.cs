using System.Text.Json;
using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Training;

/// <summary>Where training stands: enough, with the model and optimizer files, to continue exactly.</summary>
public sealed record TrainingState(int Step, long Tokens, double ElapsedSeconds, double? BestValLoss, int? BestStep, byte[]? TorchRngState);

/// <summary>
/// A training checkpoint folder: the model checkpoint files (config, weights, tensor shapes), optimizer.bin
/// (AdamW moments and step counts) and state.json. Written into a temporary folder, then renamed over the old
/// one: an interrupted write leaves the previous checkpoint whole.
/// </summary>
public static class TrainingCheckpoint
{
    public const string OptimizerFile = "optimizer.bin", StateFile = "state.json";

    /// <summary>Test hook: called after the files are written and before the rename (a crash here must lose nothing).</summary>
    internal static Action<string>? BeforeCommit;

    public static void Save(string folder, StagFormerModel model, TorchSharp.Modules.OptimizerHelper optimizer, TrainingState state)
    {
        var full = Path.GetFullPath(folder);
        var tmp = full.TrimEnd(Path.DirectorySeparatorChar) + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(tmp);
        Checkpoint.WriteFiles(model, tmp);
        optimizer.save_state_dict(Path.Combine(tmp, OptimizerFile));
        File.WriteAllText(Path.Combine(tmp, StateFile), JsonSerializer.Serialize(state, new JsonSerializerOptions { WriteIndented = true }));
        BeforeCommit?.Invoke(tmp);
        Checkpoint.ReplaceFolder(tmp, full);
    }

    public static bool Exists(string folder) => File.Exists(Path.Combine(folder, StateFile));

    /// <summary>Restores model, optimizer and RNG; returns the state. Mismatches name the file and the tensors.</summary>
    public static TrainingState Load(string folder, StagFormerModel model, TorchSharp.Modules.OptimizerHelper optimizer)
    {
        var statePath = Path.Combine(folder, StateFile);
        TrainingState state;
        try { state = JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(statePath)) ?? throw new JsonException("empty"); }
        catch (Exception e) when (e is JsonException or IOException) { throw new CheckpointException($"{statePath}: {e.Message}"); }
        Checkpoint.LoadInto(model, folder);
        optimizer.load_state_dict(Path.Combine(folder, OptimizerFile));
        if (state.TorchRngState is { } rng) torch.set_rng_state(torch.tensor(rng));
        return state;
    }

    /// <summary>Removes temporary folders left by a write that was interrupted.</summary>
    public static void CleanInterrupted(string checkpointsFolder)
    {
        if (!Directory.Exists(checkpointsFolder)) return;
        foreach (var d in Directory.GetDirectories(checkpointsFolder).Where(d => Path.GetFileName(d).Contains(".tmp-") || Path.GetFileName(d).Contains(".old-")))
            Directory.Delete(d, recursive: true);
    }

    public static byte[] CaptureRng()
    {
        using var s = torch.get_rng_state();
        return s.data<byte>().ToArray();
    }
}
