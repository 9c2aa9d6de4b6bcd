using System.Globalization;
using System.Text.Json;
using StagNotebooks.IO;
using StagNotebooks.Model;

namespace StagNotebooks.Training;

/// <summary>
/// A run's checkpoints/ folder, crash-safe in the manner of Orbax and PyTorch Lightning. Each save goes into a new
/// folder step-NNNNNNNN (written as a .tmp- folder, every file and the folder fsynced, then renamed); then the small
/// pointer file <c>last</c> is replaced atomically (its lines name the newest checkpoint and the one before, for
/// fallback), <c>best</c> likewise when validation improved; only after the pointers are durable are folders that no
/// pointer names removed. A kill at any moment leaves a pointer naming a whole checkpoint. Start-up removes only
/// what no pointer names; a checkpoint that fails to read is renamed *.unreadable, never deleted.
/// </summary>
public sealed class CheckpointStore(string folder)
{
    public const string LastPointer = "last", BestPointer = "best", Unreadable = ".unreadable";
    public string Folder { get; } = Path.GetFullPath(folder);
    public string LastPath => Path.Combine(Folder, LastPointer);
    public string BestPath => Path.Combine(Folder, BestPointer);

    /// <summary>The checkpoint the next save keeps as its fallback (the one resumed from, or the last saved).</summary>
    public string? Current { get; set; }

    /// <summary>Test hook: called after a checkpoint's files are written and before it is committed.</summary>
    internal static Action<string>? BeforeCommit;

    /// <summary>Test hook (STAG_TEST_CHECKPOINT_PAUSE_MS): a pause inside each commit, so a kill test lands there often.</summary>
    static readonly int PauseMs = int.TryParse(Environment.GetEnvironmentVariable("STAG_TEST_CHECKPOINT_PAUSE_MS"), out var ms) ? ms : 0;

    /// <summary>The checkpoint names in <c>last</c>, newest first (empty when there is none).</summary>
    public IReadOnlyList<string> Candidates() => ReadPointer(LastPath);

    /// <summary>The folder the best pointer names, or null.</summary>
    public string? Best => ReadPointer(BestPath).Select(n => Path.Combine(Folder, n)).FirstOrDefault();

    /// <summary>
    /// Start-up: turns an old layout (last/ and best/ as folders) into step folders and pointers, then removes
    /// interrupted writes (*.tmp-*, *.old-*) and step folders that no pointer names. Returns what it removed.
    /// </summary>
    public IReadOnlyList<string> Recover()
    {
        var removed = new List<string>();
        if (!Directory.Exists(Folder)) return removed;
        foreach (var p in new[] { LastPointer, BestPointer }) MigrateLegacy(p);
        var keep = new HashSet<string>(ReadPointer(LastPath).Concat(ReadPointer(BestPath)), StringComparer.Ordinal);
        foreach (var d in Directory.GetDirectories(Folder))
        {
            var name = Path.GetFileName(d);
            if (name.EndsWith(Unreadable, StringComparison.Ordinal) || keep.Contains(name)) continue;
            if (name.Contains(".tmp-") || name.Contains(".old-") || name.StartsWith("step-", StringComparison.Ordinal))
            {
                Directory.Delete(d, recursive: true);
                removed.Add(name);
            }
        }
        foreach (var f in Directory.GetFiles(Folder).Where(f => Path.GetFileName(f).Contains(".tmp-")))
        {
            File.Delete(f);
            removed.Add(Path.GetFileName(f));
        }
        return removed;
    }

    /// <summary>
    /// Writes a checkpoint of step <paramref name="step"/> with <paramref name="write"/> (which fills a folder), commits
    /// it as described above and returns its folder. If anything fails, the half-written folder is removed and the
    /// pointers still name the previous checkpoints.
    /// </summary>
    public string Save(int step, Action<string> write, bool best)
    {
        Directory.CreateDirectory(Folder);
        var name = $"step-{step.ToString("D8", CultureInfo.InvariantCulture)}";
        if (Directory.Exists(Path.Combine(Folder, name))) name += "-" + Guid.NewGuid().ToString("N")[..6];
        var target = Path.Combine(Folder, name);
        var tmp = target + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            Directory.CreateDirectory(tmp);
            write(tmp);
            Checkpoint.Seal(tmp);
            BeforeCommit?.Invoke(tmp);
            Pause();
            Directory.Move(tmp, target);
            AtomicFile.FlushDirectory(Folder);
            Pause();
        }
        catch
        {
            try { if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true); } catch (IOException) { }
            throw;
        }
        // The new folder is durable; now the pointers, each an atomic rename of a flushed file.
        var last = new List<string> { name };
        if (Current is { } prev && prev != name && Directory.Exists(Path.Combine(Folder, prev))) last.Add(prev);
        WritePointer(LastPath, last);
        if (best) WritePointer(BestPath, new[] { name });
        Current = name;
        Pause();
        Prune();
        return target;
    }

    /// <summary>Renames a checkpoint that failed to read to NAME.unreadable (kept for inspection) and returns the new path.</summary>
    public string MarkUnreadable(string name)
    {
        var from = Path.Combine(Folder, name);
        var to = from + Unreadable;
        if (Directory.Exists(to)) to += "-" + Guid.NewGuid().ToString("N")[..6];
        if (Directory.Exists(from)) Directory.Move(from, to);
        return to;
    }

    /// <summary>Removes step folders that no pointer names (after the pointers are durable).</summary>
    void Prune()
    {
        var keep = new HashSet<string>(ReadPointer(LastPath).Concat(ReadPointer(BestPath)), StringComparer.Ordinal);
        foreach (var d in Directory.GetDirectories(Folder, "step-*"))
        {
            var n = Path.GetFileName(d);
            if (!keep.Contains(n) && !n.Contains(".tmp-") && !n.EndsWith(Unreadable, StringComparison.Ordinal))
                Directory.Delete(d, recursive: true);
        }
    }

    static void Pause() { if (PauseMs > 0) Thread.Sleep(PauseMs); }

    static IReadOnlyList<string> ReadPointer(string path) =>
        File.Exists(path) ? File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).Distinct().ToList() : Array.Empty<string>();

    static void WritePointer(string path, IEnumerable<string> names) => AtomicFile.WriteAllText(path, string.Join("\n", names) + "\n");

    /// <summary>An old run's checkpoints/last (or best) folder becomes step-N plus a pointer.</summary>
    void MigrateLegacy(string pointer)
    {
        var path = Path.Combine(Folder, pointer);
        if (!Directory.Exists(path)) return;
        int step = 0;
        try { step = JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(Path.Combine(path, TrainingCheckpoint.StateFile)))?.Step ?? 0; }
        catch (Exception e) when (e is IOException or JsonException) { }
        var name = $"step-{step.ToString("D8", CultureInfo.InvariantCulture)}-{pointer}";
        Directory.Move(path, Path.Combine(Folder, name));
        AtomicFile.FlushDirectory(Folder);
        WritePointer(path, new[] { name });
    }
}
