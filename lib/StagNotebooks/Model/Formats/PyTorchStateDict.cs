using StagNotebooks.IO;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace StagNotebooks.Model;

/// <summary>
/// A model's state dict as PyTorch's own <c>torch.save</c> file (zip + pickle), through TorchSharp.PyBridge: what
/// <c>model.load_state_dict(torch.load(path))</c> reads. It carries no config: <see cref="Save"/> writes it beside.
/// PyBridge's path overloads are not used: its writer is wrapped here in a temporary file, flushed and renamed.
/// </summary>
public static class PyTorchStateDict
{
    /// <summary>Where the config of a .pt export lives: model.pt → model.config.json.</summary>
    public static string ConfigPathFor(string ptPath) => Path.ChangeExtension(ptPath, ".config.json");

    public static void Save(StagFormerModel model, string path, ScalarType? dtype = null)
    {
        using var scope = torch.NewDisposeScope();
        var sd = new Dictionary<string, Tensor>();
        foreach (var (name, t) in model.state_dict())
            sd[name] = (dtype is { } d && t.is_floating_point() ? t.to(d) : t).detach().cpu().contiguous();
        AtomicFile.Write(path, tmp =>
        {
            using var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write);
            PyTorchPickler.PickleStateDict(fs, sd, leaveOpen: true);
            fs.Flush(flushToDisk: true);
        });
        AtomicFile.WriteAllText(ConfigPathFor(path), model.Config.ToJson());
    }

    /// <summary>Reads a torch.save'd state dict (a dict of tensors) on the CPU.</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path)) throw new CheckpointException($"{path}: no such file");
        System.Collections.Hashtable table;
        try
        {
            using var fs = File.OpenRead(path);
            table = PyTorchUnpickler.UnpickleStateDict(fs, false, false);
        }
        catch (Exception e) when (e is not CheckpointException)
        {
            throw new CheckpointException($"{path}: not a PyTorch state dict saved by torch.save ({e.GetType().Name}: {e.Message})");
        }
        var result = new Dictionary<string, Tensor>();
        foreach (System.Collections.DictionaryEntry kv in table)
            result[kv.Key.ToString()!] = kv.Value as Tensor
                ?? throw new CheckpointException($"{path}: entry {kv.Key} is not a tensor (save model.state_dict(), not the model)");
        return result;
    }
}
