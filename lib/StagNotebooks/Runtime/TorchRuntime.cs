using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Runtime;

/// <summary>Loads TorchSharp, picks the compute device at run time, and reports what was loaded.</summary>
public static class TorchRuntime
{
    static readonly object Gate = new();
    static string? _loadError;
    static bool _loaded;

    /// <summary>The TorchSharp backend the library was built for (-p:TorchBackend=...).</summary>
    public static string Backend =>
        typeof(TorchRuntime).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "TorchBackend")?.Value ?? "unknown";

    public static string TorchSharpVersion =>
        typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0]
        ?? typeof(torch).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>libtorch's own version string (e.g. "2.10.0+cpu").</summary>
    public static string LibTorchVersion { get { EnsureLoaded(); return torch.__version__; } }

    /// <summary>Loads the native backend once; throws <see cref="TorchUnavailableException"/> with the reason if it cannot.</summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_loaded) return;
            if (_loadError != null) throw new TorchUnavailableException(_loadError);
            try
            {
                NativePreload.FromLibraryFolder();
                using var t = torch.ones(1);
                _loaded = true;
            }
            catch (Exception e) when (e is NotSupportedException or DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
            {
                _loadError = Explain(e);
                throw new TorchUnavailableException(_loadError, e);
            }
        }
    }

    /// <summary>Whether the build's libstdc++ patch (GLIBCXX_3.4.32 weak) is in effect for the libLibTorchSharp.so this process loaded.</summary>
    public static LibStdCxxCompat LibStdCxx { get { EnsureLoaded(); return LibStdCxxCompat.Inspect(); } }

    public static bool CudaAvailable { get { EnsureLoaded(); return torch.cuda.is_available(); } }

    public static int CudaDeviceCount { get { EnsureLoaded(); return torch.cuda.is_available() ? torch.cuda.device_count() : 0; } }

    /// <summary>Resolves "auto" | "cpu" | "cuda" | "cuda:N" to a device; "auto" prefers CUDA when present.</summary>
    public static Device ResolveDevice(string spec = "auto")
    {
        EnsureLoaded();
        var s = (spec ?? "auto").Trim().ToLowerInvariant();
        if (s == "auto") return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        if (s == "cpu") return torch.CPU;
        if (s == "cuda" || s.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
                throw new ArgumentException($"--device {spec}: CUDA is not available (backend '{Backend}'; build with -p:TorchBackend=cuda-windows or cuda-linux on a machine with an NVIDIA GPU).");
            if (s == "cuda") return torch.CUDA;
            if (!int.TryParse(s[5..], out var index) || index < 0 || index >= torch.cuda.device_count())
                throw new ArgumentException($"--device {spec}: no such CUDA device (found {torch.cuda.device_count()}).");
            return torch.device(DeviceType.CUDA, index);
        }
        throw new ArgumentException($"--device {spec}: expected auto, cpu, cuda or cuda:N.");
    }

    /// <summary>Waits for queued device work, so a clock read after it measures finished work.</summary>
    public static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA) torch.cuda.synchronize(device);
    }

    static string Explain(Exception e)
    {
        var inner = e;
        var details = new List<string>();
        while (inner != null) { details.Add(inner.Message); inner = inner.InnerException; }
        var loader = LoaderError();
        if (loader != null) details.Add("The dynamic loader says: " + loader);
        var all = string.Join(" ", details);
        var hint = all.Contains("GLIBCXX", StringComparison.Ordinal) || (OperatingSystem.IsLinux() && all.Contains("libtorch-cpu-linux-x64", StringComparison.Ordinal))
            ? "This host's libstdc++ is older than TorchSharp's native library expects (GLIBCXX_3.4.32). Every Linux build marks that " +
              "requirement weak in the package-cache copy of libLibTorchSharp.so (build/ElfVersionPatch.cs): rebuild with `dotnet build`, and make " +
              "sure this process loads the build output rather than an unpatched copy from elsewhere. See environment.md, 'libstdc++'."
            : $"Check that the TorchSharp backend package for this platform is referenced (this build: '{Backend}', chosen with -p:TorchBackend=cpu|cuda-windows|cuda-linux) " +
              "and that its native files were copied next to the application. See environment.md.";
        return $"TorchSharp {TorchSharpVersion} could not load its native libtorch backend: {all.Trim()} {hint}";
    }

    /// <summary>TorchSharp's message hides dlopen's reason; loading its native library ourselves shows it (e.g. "version `GLIBCXX_3.4.32' not found").</summary>
    static string? LoaderError()
    {
        if (!OperatingSystem.IsLinux()) return null;
        var dir = Path.GetDirectoryName(typeof(torch).Assembly.Location);
        if (string.IsNullOrEmpty(dir)) return null;
        var candidate = new[] { Path.Combine(dir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"), Path.Combine(dir, "libLibTorchSharp.so") }
            .FirstOrDefault(File.Exists);
        if (candidate == null) return null;
        try { System.Runtime.InteropServices.NativeLibrary.Load(candidate); return null; }
        catch (DllNotFoundException e) { return e.Message; }
        catch (BadImageFormatException e) { return e.Message; }
    }
}

public sealed class TorchUnavailableException : Exception
{
    public TorchUnavailableException(string message, Exception? inner = null) : base(message, inner) { }
}
