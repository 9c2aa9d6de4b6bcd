using System.Diagnostics;
using System.Globalization;

namespace StagNotebooks.Benchmarks;

/// <summary>Resident memory of one child process, sampled on a timer until it exits: what `stag reproduce` records per notebook.</summary>
public sealed class ProcessMemory : IDisposable
{
    readonly Process process;
    readonly Timer timer;
    readonly List<double> samples = new();
    readonly Stopwatch clock = Stopwatch.StartNew();

    public ProcessMemory(Process process, TimeSpan every)
    {
        this.process = process;
        timer = new Timer(_ => Sample(), null, TimeSpan.Zero, every);
    }

    /// <summary>Every sample taken, in MB.</summary>
    public IReadOnlyList<double> Samples { get { lock (samples) return samples.ToList(); } }
    public double PeakMB { get { lock (samples) return samples.Count == 0 ? 0 : samples.Max(); } }
    public double Seconds => clock.Elapsed.TotalSeconds;

    void Sample()
    {
        var mb = ResidentMB(process);
        if (mb is double v) lock (samples) samples.Add(v);
    }

    /// <summary>VmRSS of a live process (Linux /proc), else its working set; null once it has exited.</summary>
    public static double? ResidentMB(Process p)
    {
        try
        {
            var status = $"/proc/{p.Id}/status";
            if (File.Exists(status))
            {
                foreach (var line in File.ReadLines(status))
                    if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                        return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;   // kB
                return null;   // a zombie has no VmRSS line
            }
            p.Refresh();
            return p.HasExited ? null : p.WorkingSet64 / 1048576.0;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException) { return null; }
    }

    public void Dispose()
    {
        timer.Dispose();
        clock.Stop();
    }
}
