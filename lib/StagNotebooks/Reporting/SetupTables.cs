using System.Globalization;
using Microsoft.Data.Analysis;
using StagNotebooks.Benchmarks;

namespace StagNotebooks.Reporting;

/// <summary>Notebook 00's table: what <c>stag doctor</c> found on this machine.</summary>
public static class SetupTables
{
    /// <summary>One row per check: versions, backend, device, threads, the libstdc++ fix, and the measured roofline.</summary>
    public static DataFrame Doctor(DoctorReport r) => new(
        new StringDataFrameColumn("check", new[] { "TorchSharp", "libtorch", "backend", "device", "CUDA devices", "threads", "libstdc++ fix", "fp32 GEMM GFLOP/s", "memory GB/s" }),
        new StringDataFrameColumn("result", new[] { r.TorchSharpVersion, r.LibTorchVersion, r.Backend, r.Device, r.CudaDeviceCount.ToString(CultureInfo.InvariantCulture),
            r.Threads.ToString(CultureInfo.InvariantCulture), r.LibStdCxx, r.Roofline.GemmGflops.ToString("F1", CultureInfo.InvariantCulture),
            r.Roofline.BandwidthGBs.ToString("F1", CultureInfo.InvariantCulture) }));
}
