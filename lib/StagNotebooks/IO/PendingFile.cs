namespace StagNotebooks.IO;

/// <summary>
/// A file written as a stream and published atomically, for output that is produced piece by piece (a rejects list
/// written while a shard is read): the bytes go to a temporary file beside the target; <see cref="Commit"/> flushes
/// it to disk, renames it over the target and flushes the folder, as <see cref="AtomicFile.Write"/> does. Disposed
/// without a commit, the temporary file is deleted and the target is untouched.
/// </summary>
public sealed class PendingFile : IDisposable
{
    readonly string _tmp;
    readonly FileStream _stream;
    bool _committed;

    public PendingFile(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        _tmp = Path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        _stream = new FileStream(_tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
    }

    /// <summary>The target, as a full path.</summary>
    public string Path { get; }

    public Stream Stream => _stream;

    public void Commit()
    {
        if (_committed) throw new InvalidOperationException($"{Path}: already committed");
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        File.Move(_tmp, Path, overwrite: true);
        _committed = true;
        AtomicFile.FlushDirectory(System.IO.Path.GetDirectoryName(Path)!);
    }

    public void Dispose()
    {
        if (_committed) return;
        _stream.Dispose();
        if (File.Exists(_tmp)) File.Delete(_tmp);
    }
}
