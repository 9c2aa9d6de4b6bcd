using System.Diagnostics;
using StagNotebooks.Decoding;
using StagNotebooks.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Benchmarks;

/// <summary>
/// The fastest a decode step can be on this machine, from constants measured here: the cost of one libtorch call (a
/// bare TorchSharp loop of a tiny op: what every call of a step pays before its arithmetic) and the stream bandwidth
/// (<see cref="Roofline"/>'s large copy) at one intra-op thread and with every core. A step cannot beat issuing the
/// calls on its critical path one after another plus reading the bytes it must read; one CPU thread both issues and
/// executes, so the two add. The thread engine's stacks read on their own cores: its bytes go at the full bandwidth,
/// the other engines' at the bandwidth of the threads they use. The distance to this floor (measured ÷ floor) is
/// what overhead costs.
/// </summary>
/// <param name="CallUs">µs per libtorch call (median of rounds of <see cref="LoopCalls"/> additions of two 1×64 tensors)</param>
/// <param name="Bandwidth1GBs">stream bandwidth at 1 intra-op thread</param>
/// <param name="BandwidthCoresGBs">stream bandwidth with every core (<paramref name="Cores"/> intra-op threads)</param>
/// <param name="Threads">this process's intra-op threads: an engine on one stream reads at 1 thread's bandwidth when it is 1, else with every core's</param>
public sealed record DecodeFloor(double CallUs, double Bandwidth1GBs, double BandwidthCoresGBs, int Cores, int Threads)
{
    public const int LoopCalls = 2000;

    /// <summary>Measures the constants on <paramref name="device"/> (about 2 s on a 2-core CPU); restores this thread's intra-op threads.</summary>
    public static DecodeFloor Measure(Device device)
    {
        int threads = torch.get_num_threads(), cores = Environment.ProcessorCount;
        double one, all;
        try
        {
            torch.set_num_threads(1);
            one = Roofline.Of(device).BandwidthGBs;
            torch.set_num_threads(cores);
            all = Roofline.Of(device).BandwidthGBs;
        }
        finally { torch.set_num_threads(threads); }
        return new DecodeFloor(CallMicroseconds(device), one, all, cores, threads);
    }

    /// <summary>µs per call of a bare loop: median over 7 rounds of <see cref="LoopCalls"/> tiny additions, each result freed.</summary>
    static double CallMicroseconds(Device device)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var a = torch.ones(1, 64, device: device);
        var b = torch.ones(1, 64, device: device);
        var rounds = new List<double>();
        for (int r = 0; r < 8; r++)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < LoopCalls; i++) a.add(b).Dispose();
            TorchRuntime.Synchronize(device);
            if (r > 0) rounds.Add(clock.Elapsed.TotalSeconds * 1e6 / LoopCalls);   // round 0 warms up
        }
        rounds.Sort();
        return rounds[rounds.Count / 2];
    }

    /// <summary>The bandwidth <paramref name="engine"/> reads its bytes at: every core's for the thread engine (a stack per core) and for the others when this process runs more than one intra-op thread; else one thread's.</summary>
    public double BandwidthGBs(EngineKind engine) => engine == EngineKind.Parallel || Threads > 1 ? BandwidthCoresGBs : Bandwidth1GBs;

    /// <summary>The floor of one step, ms: calls on the critical path × the call cost + bytes read ÷ the engine's bandwidth.</summary>
    public double Ms(long criticalPathCalls, double bytesPerStep, EngineKind engine) =>
        criticalPathCalls * CallUs / 1e3 + bytesPerStep / (BandwidthGBs(engine) * 1e9) * 1e3;

    public double Ms(DecodeBenchResult r) => Ms(r.CriticalPathTensors, r.BytesReadPerStep, r.Engine);

    /// <summary>"1 call = 6.10 µs; stream 11.8 GB/s at 1 thread, 17.0 GB/s at 2".</summary>
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"1 call = {CallUs:F2} µs; stream {Bandwidth1GBs:F1} GB/s at 1 thread, {BandwidthCoresGBs:F1} GB/s at {Cores}");
}
