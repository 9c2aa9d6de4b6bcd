using System.Runtime.InteropServices;

namespace StagNotebooks.Runtime;

/// <summary>
/// Loads LibTorchSharp from the native folder beside this library (bin/…/runtimes/&lt;rid&gt;/native/) by full path,
/// before TorchSharp looks for it. Why: a host that references the library by path — the .NET Interactive kernel
/// after <c>#r "…/StagNotebooks.dll"</c> — has no deps.json entry for the natives, and TorchSharp's own search
/// then fails ("doesn't contain a reference to libtorch-cpu-linux-x64"). Once loaded, TorchSharp's lookup by name
/// finds the same library; its dependencies (libtorch, libc10, CUDA's) come from the same folder.
/// </summary>
static class NativePreload
{
    public static string? Loaded { get; private set; }

    public static void FromLibraryFolder()
    {
        if (Loaded != null) return;
        var (rid, file) = OperatingSystem.IsWindows() ? ("win-x64", "LibTorchSharp.dll")
                        : OperatingSystem.IsMacOS() ? (RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "osx-arm64" : "osx-x64", "libLibTorchSharp.dylib")
                        : ("linux-x64", "libLibTorchSharp.so");
        foreach (var dir in new[] { typeof(NativePreload).Assembly.Location, typeof(TorchSharp.torch).Assembly.Location }
                     .Where(l => l.Length > 0).Select(Path.GetDirectoryName).Distinct())
        {
            var path = Path.Combine(dir!, "runtimes", rid, "native", file);
            if (File.Exists(path) && NativeLibrary.TryLoad(path, out _)) { Loaded = path; return; }
        }
    }
}
