using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Runtime;

/// <summary>Measured peak of a device: fp32 GEMM throughput and memory bandwidth. Later reports divide by these (MFU, decode efficiency).</summary>
public sealed record Roofline(string Device, int Threads, double GemmGflops, double BandwidthGBs, int GemmSize, long CopyBytes)
{
    static readonly Dictionary<string, Roofline> _measured = new();

    internal static string Key(DeviceType type, long index, int threads) => $"{type}:{index}|{threads}";

    /// <summary>
    /// The roofline of <paramref name="device"/> at this thread's intra-op thread count, measured once per process for each
    /// (cuda:0 and cuda:1, or 1 and 2 CPU threads, are measured separately): MFU's denominator during training.
    /// </summary>
    public static Roofline Of(Device device)
    {
        var key = Key(device.type, device.index, torch.get_num_threads());
        lock (_measured)
        {
            if (!_measured.TryGetValue(key, out var r)) _measured[key] = r = Measure(device);
            return r;
        }
    }

    /// <summary>Measures both figures; takes about a second on a 2-core CPU.</summary>
    public static Roofline Measure(Device device, int gemmSize = 1024, long copyBytes = 256L << 20, double seconds = 0.4)
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();

        var a = torch.randn(gemmSize, gemmSize, device: device);
        var b = torch.randn(gemmSize, gemmSize, device: device);
        double gemmSec = TimePerCall(device, () => torch.mm(a, b).Dispose(), seconds);
        double gflops = 2.0 * gemmSize * gemmSize * (double)gemmSize / gemmSec / 1e9;

        long n = copyBytes / sizeof(float);
        var src = torch.ones(n, device: device);
        var dst = torch.empty(n, device: device);
        double copySec = TimePerCall(device, () => dst.copy_(src), seconds);
        double gbs = 2.0 * copyBytes / copySec / 1e9;                                   // a copy reads and writes every byte

        return new Roofline(device.ToString(), torch.get_num_threads(), gflops, gbs, gemmSize, copyBytes);
    }

    /// <summary>Median seconds per call after one warm-up call, repeating for about <paramref name="budget"/> seconds.</summary>
    static double TimePerCall(Device device, Action call, double budget)
    {
        call(); TorchRuntime.Synchronize(device);
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < 3 || (total.Elapsed.TotalSeconds < budget && times.Count < 200))
        {
            var sw = Stopwatch.StartNew();
            call();
            TorchRuntime.Synchronize(device);
            times.Add(sw.Elapsed.TotalSeconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }
}
