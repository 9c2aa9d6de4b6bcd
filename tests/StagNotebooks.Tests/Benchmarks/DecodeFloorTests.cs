using StagNotebooks.Benchmarks;
using StagNotebooks.Decoding;
using StagNotebooks.Runtime;

namespace StagNotebooks.Tests.Benchmarks;

/// <summary>The floor `stag bench decode` prints beside each measured time: calls × the cost of one call + bytes ÷ bandwidth.</summary>
public class DecodeFloorTests
{
    static DecodeBenchResult Cell(EngineKind engine, long calls, double bytes) =>
        new("v", engine, engine.Name(), 1, 1, 1, 0, 1, 1, 1, 1, 1, true, 0, 0, 0, calls, bytes, 0);

    [Fact]
    public void The_floor_adds_issuing_the_calls_to_reading_the_bytes_at_the_engines_bandwidth()
    {
        // 5 µs a call; 10 GB/s at one thread, 16 GB/s with both cores.
        var oneThread = new DecodeFloor(5, 10, 16, Cores: 2, Threads: 1);
        Assert.Equal(100 * 0.005 + 2e7 / 10e9 * 1e3, oneThread.Ms(Cell(EngineKind.Sequential, 100, 2e7)), 12);   // 0.5 + 2 ms
        Assert.Equal(100 * 0.005 + 2e7 / 16e9 * 1e3, oneThread.Ms(Cell(EngineKind.Parallel, 100, 2e7)), 12);     // a stack per core
        var twoThreads = oneThread with { Threads = 2 };
        Assert.Equal(16, twoThreads.BandwidthGBs(EngineKind.Stacked));
        Assert.Equal(10, oneThread.BandwidthGBs(EngineKind.Recurrent));
    }

    [Fact]
    public void Measured_constants_are_positive_and_the_threads_are_restored()
    {
        var device = TorchRuntime.ResolveDevice("cpu");
        int before = TorchSharp.torch.get_num_threads();
        var f = DecodeFloor.Measure(device);
        Assert.Equal(before, TorchSharp.torch.get_num_threads());
        Assert.True(f.CallUs > 0 && f.Bandwidth1GBs > 0 && f.BandwidthCoresGBs > 0, f.ToString());
        Assert.Equal((Environment.ProcessorCount, before), (f.Cores, f.Threads));
    }
}
