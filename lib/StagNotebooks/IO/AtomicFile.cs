using System.Runtime.InteropServices;

namespace StagNotebooks.IO;

/// <summary>
/// Writes that never leave a half-written file: write a temporary file beside the target, flush it to disk, rename
/// over the target, then flush the folder so the rename itself survives a power cut.
/// </summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string text) => Write(path, tmp => File.WriteAllText(tmp, text));

    public static void Write(string path, Action<string> writeTemp)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var tmp = full + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            writeTemp(tmp);
            FlushFile(tmp);
            File.Move(tmp, full, overwrite: true);
            FlushDirectory(dir);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>fsync of a file: its bytes are on the disk when this returns.</summary>
    public static void FlushFile(string path)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        f.Flush(flushToDisk: true);
    }

    /// <summary>fsync of every file in a folder, then of the folder (its entries).</summary>
    public static void FlushTree(string folder)
    {
        foreach (var f in Directory.GetFiles(folder)) FlushFile(f);
        FlushDirectory(folder);
    }

    /// <summary>fsync of a folder, so renames and new entries in it are durable (POSIX; a no-op on Windows, where NTFS journals renames).</summary>
    public static void FlushDirectory(string folder)
    {
        if (OperatingSystem.IsWindows()) return;
        int fd = open(folder, 0 /* O_RDONLY */);
        if (fd < 0) throw new IOException($"{folder}: cannot open the folder to flush it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (fsync(fd) != 0) throw new IOException($"{folder}: fsync failed (errno {Marshal.GetLastPInvokeError()})");
        }
        finally { close(fd); }
    }

    [DllImport("libc", SetLastError = true)] static extern int open([MarshalAs(UnmanagedType.LPStr)] string path, int flags);
    [DllImport("libc", SetLastError = true)] static extern int fsync(int fd);
    [DllImport("libc", SetLastError = true)] static extern int close(int fd);
}
