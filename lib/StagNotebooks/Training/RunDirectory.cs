using System.Text.Json;
using System.Text.Json.Serialization;
using System.Security.Cryptography;
using System.Text;
using StagNotebooks.IO;
using StagNotebooks.Model;

namespace StagNotebooks.Training;

/// <summary>
/// runs/&lt;name&gt;/: config.json (the TrainConfig), data.json (what data it trained on), metrics.csv/.jsonl,
/// checkpoints/ (step-N folders and the pointer files last and best, see <see cref="CheckpointStore"/>),
/// train.lock (held while a process trains it, <see cref="Lock"/>) and done.json once finished. A run is identified by a hash of its
/// config and data, so the same experiment asked for twice is found and reused instead of trained again.
/// </summary>
public sealed class RunDirectory
{
    public string Path { get; }
    public string Id { get; }
    public TrainConfig Config { get; }

    RunDirectory(string path, string id, TrainConfig config) { Path = path; Id = id; Config = config; }

    public string Checkpoints => System.IO.Path.Combine(Path, "checkpoints");
    public string LastCheckpoint => System.IO.Path.Combine(Checkpoints, "last");
    public string BestCheckpoint => System.IO.Path.Combine(Checkpoints, "best");
    public string DoneFile => System.IO.Path.Combine(Path, "done.json");
    public bool IsComplete => File.Exists(DoneFile);

    /// <summary>The device the run finished training on, from done.json ("cpu", "cuda:0"); null before it is done, or for runs finished before it was recorded.</summary>
    public string? TrainedOn =>
        IsComplete && System.Text.Json.JsonDocument.Parse(File.ReadAllText(DoneFile)).RootElement.TryGetProperty("device", out var d) ? d.GetString() : null;

    /// <summary>The intra-op threads the run at <paramref name="path"/> finished training with (done.json); null before it is done or when not recorded.</summary>
    public static int? ThreadsOf(string path)
    {
        var done = System.IO.Path.Combine(path, "done.json");
        return File.Exists(done) && JsonDocument.Parse(File.ReadAllText(done)).RootElement.TryGetProperty("threads", out var t) ? t.GetInt32() : null;
    }

    /// <summary>
    /// Hash of the config and the data identity (e.g. the packed dataset's manifest hash). Fields at their type's
    /// default (false, 0, null, the first enum value) are left out of the hashed JSON, so adding an option that is
    /// off by default keeps every earlier run's id and its runs are reused.
    /// </summary>
    public static string ComputeId(TrainConfig config, string dataId)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(config, IdJson) + "\n" + dataId));
        return Convert.ToHexString(bytes)[..12].ToLowerInvariant();
    }

    static readonly JsonSerializerOptions IdJson = new(StagFormerConfig.Json) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault };

    /// <summary>
    /// A finished run of the same experiment under another name (another label, e.g. the search's baseline-2h at
    /// h = 1 is baseline-h at h = 2): runs/*-&lt;id&gt;/ whose run-id.txt is the id and which is complete; else one trained
    /// under another preset's name whose config is otherwise this one and whose data is the same (the regime ladder's
    /// rung h = 2 of cpu-fidelity is cpu-judge's run: <see cref="FindUnderAnotherPreset"/>); null if none.
    /// </summary>
    public static RunDirectory? FindComplete(string runsRoot, TrainConfig config, string dataId)
    {
        var id = ComputeId(config, dataId);
        if (!Directory.Exists(runsRoot)) return null;
        return Directory.GetDirectories(runsRoot, "*-" + id).Order(StringComparer.Ordinal)
            .Where(dir => ReadId(dir) == id)
            .Select(dir => new RunDirectory(System.IO.Path.GetFullPath(dir), id, config))
            .FirstOrDefault(run => run.IsComplete)
            ?? FindUnderAnotherPreset(runsRoot, config, dataId);
    }

    /// <summary>
    /// A complete run in <paramref name="runsRoot"/> whose config equals <paramref name="config"/> except for its
    /// <see cref="TrainConfig.Preset"/> name (a label: it changes no number) and whose own id says it trained on
    /// <paramref name="dataId"/>. Returned with its own id and config. Only complete runs are read.
    /// </summary>
    static RunDirectory? FindUnderAnotherPreset(string runsRoot, TrainConfig config, string dataId)
    {
        var want = ComputeId(config, dataId);
        foreach (var dir in Directory.GetDirectories(runsRoot).Order(StringComparer.Ordinal))
        {
            var configFile = System.IO.Path.Combine(dir, "config.json");
            if (!File.Exists(System.IO.Path.Combine(dir, "done.json")) || !File.Exists(configFile) || ReadId(dir) is not { } own) continue;
            TrainConfig other;
            try { other = TrainConfig.FromJson(File.ReadAllText(configFile), configFile); }
            catch (Exception e) when (e is ConfigException or IOException or JsonException) { continue; }   // not a run this code can read: not ours
            if (other.Preset == config.Preset || ComputeId(other with { Preset = config.Preset }, dataId) != want) continue;
            if (ComputeId(other, dataId) != own) continue;   // the same config, but it trained on other data
            return new RunDirectory(System.IO.Path.GetFullPath(dir), own, other);
        }
        return null;
    }

    /// <summary>The id a run folder was created with (its run-id.txt), or null for a folder that is not a run.</summary>
    static string? ReadId(string path)
    {
        var idFile = System.IO.Path.Combine(path, IdFile);
        return File.Exists(idFile) ? File.ReadAllText(idFile).Trim() : null;
    }

    const string IdFile = "run-id.txt";

    /// <summary>Opens (creating if needed) runs/&lt;name&gt;; an existing folder must hold the same experiment.</summary>
    public static RunDirectory Open(string runsRoot, string name, TrainConfig config, string dataId)
    {
        var id = ComputeId(config, dataId);
        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine(runsRoot, name));
        var existing = ReadId(path);
        if (existing != null)
        {
            if (existing != id)
                throw new InvalidOperationException($"{path} holds another experiment (run id {existing}, this one is {id}): choose another run name, or delete the folder");
        }
        else
        {
            Directory.CreateDirectory(path);
            AtomicFile.WriteAllText(System.IO.Path.Combine(path, "config.json"), config.ToJson());
            AtomicFile.WriteAllText(System.IO.Path.Combine(path, "data.json"), $"{{\"data\": {System.Text.Json.JsonSerializer.Serialize(dataId)}}}");
            AtomicFile.WriteAllText(System.IO.Path.Combine(path, IdFile), id);
        }
        return new RunDirectory(path, id, config);
    }

    const string LockFile = "train.lock";

    // Windows: ERROR_SHARING_VIOLATION / ERROR_LOCK_VIOLATION; Unix: the errno of a refused flock (EWOULDBLOCK: 11 on Linux, 35 on macOS).
    static bool HeldElsewhere(IOException e) => (e.HResult & 0xFFFF) is 32 or 33 or 11 or 35;

    /// <summary>
    /// Holds the run for training until disposed. A second process that asks for the same run (another notebook,
    /// `stag train`) waits here instead of writing the same checkpoints and metrics. The lock is the OS's (an
    /// exclusive handle: flock on Unix), so it is released when its process dies, and a killed run can resume.
    /// </summary>
    public IDisposable Lock(Action<string>? log = null, CancellationToken cancel = default, TimeSpan? poll = null)
    {
        var path = System.IO.Path.Combine(Path, LockFile);
        bool told = false;
        while (true)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException e) when (HeldElsewhere(e))
            {
                if (!told) log?.Invoke($"{Path}: another process is training this run; waiting for it to finish or stop");
                told = true;
                cancel.WaitHandle.WaitOne(poll ?? TimeSpan.FromSeconds(2));
                cancel.ThrowIfCancellationRequested();
            }
        }
    }

    /// <summary>The default run name: preset, a short description and the id.</summary>
    public static string DefaultName(TrainConfig config, string label, string dataId) => $"{config.Preset}-{label}-{ComputeId(config, dataId)}";
}
