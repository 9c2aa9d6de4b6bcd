using System.Text.Json;
using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Training;

/// <summary>Where training stands: enough, with the model and optimizer files, to continue exactly.</summary>
public sealed record TrainingState(int Step, long Tokens, double ElapsedSeconds, double? BestValLoss, int? BestStep, byte[]? TorchRngState);

/// <summary>
/// The files of a training checkpoint folder: the model checkpoint files (config, weights, tensor shapes),
/// optimizer.bin (AdamW moments and step counts), state.json and the manifest. <see cref="CheckpointStore"/>
/// decides where the folder goes and commits it crash-safely.
/// </summary>
public static class TrainingCheckpoint
{
    public const string OptimizerFile = "optimizer.bin", StateFile = "state.json";

    /// <summary>Writes every file of a training checkpoint into an existing (temporary) folder.</summary>
    public static void WriteInto(string folder, StagFormerModel model, TorchSharp.Modules.OptimizerHelper optimizer, TrainingState state)
    {
        Checkpoint.WriteFiles(model, folder);
        optimizer.save_state_dict(Path.Combine(folder, OptimizerFile));
        File.WriteAllText(Path.Combine(folder, StateFile), JsonSerializer.Serialize(state, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Whether <paramref name="folder"/> (a folder or a pointer such as checkpoints/last) leads to a training checkpoint.</summary>
    public static bool Exists(string folder) => File.Exists(Path.Combine(Checkpoint.Resolve(folder), StateFile));

    /// <summary>
    /// Restores model, optimizer and RNG; returns the state. A missing, truncated or corrupt file, or a config that
    /// does not match, is a <see cref="CheckpointException"/> naming the file.
    /// </summary>
    public static TrainingState Load(string folder, StagFormerModel model, TorchSharp.Modules.OptimizerHelper optimizer)
    {
        folder = Checkpoint.Resolve(folder);
        Checkpoint.Verify(folder);
        var statePath = Path.Combine(folder, StateFile);
        TrainingState state;
        try { state = JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(statePath)) ?? throw new JsonException("empty"); }
        catch (Exception e) when (e is JsonException or IOException) { throw new CheckpointException($"{statePath}: {e.Message}"); }
        var config = Checkpoint.ReadConfig(folder);
        if (config != model.Config)
            throw new CheckpointException($"{Path.Combine(folder, Checkpoint.ConfigFile)}: the checkpoint's model config differs from the run's ({config.ToJson()} vs {model.Config.ToJson()})");
        Checkpoint.LoadInto(model, folder);
        var opt = Path.Combine(folder, OptimizerFile);
        try { optimizer.load_state_dict(opt); }
        catch (Exception e) { throw new CheckpointException($"{opt}: unreadable ({e.GetType().Name}: {e.Message})"); }
        if (state.TorchRngState is { } rng) { using var t = torch.tensor(rng); torch.set_rng_state(t); }
        return state;
    }

    public static byte[] CaptureRng()
    {
        using var s = torch.get_rng_state();
        return s.data<byte>().ToArray();
    }
}
