using StagNotebooks.Runtime;
using TorchSharp;

namespace StagNotebooks.Benchmarks;

/// <summary>Everything `stag doctor` checks: versions, backend, devices, threads, the compatibility fix and the roofline.</summary>
public sealed record DoctorReport(
    string TorchSharpVersion, string LibTorchVersion, string Backend, string Os, string DotNet,
    bool CudaAvailable, int CudaDeviceCount, IReadOnlyList<string> CudaDevices,
    int Threads, int LogicalCores, bool CompatFixActive, string LibStdCxx, string Device, Roofline Roofline)
{
    // CompatFixActive: the loaded libLibTorchSharp.so asks for GLIBCXX_3.4.32 weakly (the build's patch is in effect);
    // LibStdCxx: the same in words, naming the loaded file and whether the system libstdc++ has the version.
    public static DoctorReport Collect(string deviceSpec = "auto", bool measure = true)
    {
        TorchRuntime.EnsureLoaded();
        var device = TorchRuntime.ResolveDevice(deviceSpec);
        int cudaCount = TorchRuntime.CudaDeviceCount;
        // TorchSharp exposes no device-name query; the names come from nvidia-smi when it is installed.
        var names = cudaCount > 0 ? CudaDeviceNames(cudaCount) : Array.Empty<string>();
        var compat = TorchRuntime.LibStdCxx;
        var roof = measure ? Roofline.Measure(device) : new Roofline(device.ToString(), torch.get_num_threads(), double.NaN, double.NaN, 0, 0);
        return new DoctorReport(
            TorchRuntime.TorchSharpVersion, TorchRuntime.LibTorchVersion, TorchRuntime.Backend,
            System.Runtime.InteropServices.RuntimeInformation.OSDescription,
            System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
            cudaCount > 0, cudaCount, names, torch.get_num_threads(), Environment.ProcessorCount,
            compat.PatchInEffect, compat.Describe(), device.ToString(), roof);
    }

    static string[] CudaDeviceNames(int count)
    {
        try
        {
            var psi = new System.Diagnostics.ProcessStartInfo("nvidia-smi", "--query-gpu=name --format=csv,noheader")
            { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = System.Diagnostics.Process.Start(psi)!;
            var lines = p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            p.WaitForExit(5000);
            return lines.Length == count ? lines : Enumerable.Range(0, count).Select(i => lines.ElementAtOrDefault(i) ?? $"cuda:{i}").ToArray();
        }
        catch (Exception) { return Enumerable.Range(0, count).Select(i => $"cuda:{i}").ToArray(); }
    }
}
