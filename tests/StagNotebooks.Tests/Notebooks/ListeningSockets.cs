using System.Net;

namespace StagNotebooks.Tests.Notebooks;

/// <summary>
/// The TCP sockets a process listens on, read as tests/jupyter/check_listening.py reads them: the LISTEN rows (state
/// 0A) of /proc/&lt;pid&gt;/net/tcp and tcp6 whose inode is one of the process's open sockets (/proc/&lt;pid&gt;/fd). Linux only.
/// </summary>
public static class ListeningSockets
{
    public static bool Available => Directory.Exists("/proc/self/net");

    public static IReadOnlyList<IPEndPoint> Of(int pid)
    {
        var mine = new HashSet<long>();
        foreach (var fd in Directory.GetFiles($"/proc/{pid}/fd"))
        {
            string? target;
            try { target = new FileInfo(fd).LinkTarget; } catch (IOException) { continue; } catch (UnauthorizedAccessException) { continue; }
            if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal)) mine.Add(long.Parse(target[8..^1]));
        }
        var found = new List<IPEndPoint>();
        foreach (var table in new[] { "tcp", "tcp6" })
        {
            var path = $"/proc/{pid}/net/{table}";
            if (!File.Exists(path)) continue;
            foreach (var line in File.ReadLines(path).Skip(1))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f[3] == "0A" && mine.Contains(long.Parse(f[9]))) found.Add(Decode(f[1]));
            }
        }
        return found;
    }

    /// <summary>"0100007F:0801" → 127.0.0.1:2049: the address as 32-bit words in little-endian order, then the port.</summary>
    internal static IPEndPoint Decode(string hex)
    {
        var parts = hex.Split(':');
        var raw = Convert.FromHexString(parts[0]);
        for (int i = 0; i < raw.Length; i += 4) Array.Reverse(raw, i, 4);
        var address = new IPAddress(raw);
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        return new IPEndPoint(address, Convert.ToInt32(parts[1], 16));
    }
}
