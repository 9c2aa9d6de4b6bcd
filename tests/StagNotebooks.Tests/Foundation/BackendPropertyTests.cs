using System.Diagnostics;
using System.Text.Json;

namespace StagNotebooks.Tests.Foundation;

/// <summary>Evaluates the library project with each -p:TorchBackend value and checks the package references it yields.</summary>
public class BackendPropertyTests
{
    static (int Code, string Out) Evaluate(string backend)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = TestPaths.RepoRoot,
        };
        foreach (var a in new[] { "msbuild", "lib/StagNotebooks/StagNotebooks.csproj", "-getItem:PackageReference", "-t:_CheckTorchBackend", "-p:TorchBackend=" + backend, "-nologo" })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    static string[] TorchPackages(string backend)
    {
        var (code, output) = Evaluate(backend);
        Assert.True(code == 0, output);
        using var doc = JsonDocument.Parse(output[output.IndexOf('{')..]);
        return doc.RootElement.GetProperty("Items").GetProperty("PackageReference").EnumerateArray()
            .Select(e => e.GetProperty("Identity").GetString()!)
            .Where(n => n.Contains("torch", StringComparison.OrdinalIgnoreCase) && n != "TorchSharp.PyBridge")   // an extension, not a backend
            .OrderBy(n => n, StringComparer.Ordinal).ToArray();
    }

    [Fact]
    public void Cpu_backend_references_only_this_platforms_natives()
    {
        var expected = OperatingSystem.IsLinux() ? new[] { "TorchSharp", "libtorch-cpu-linux-x64" } : new[] { "TorchSharp-cpu" };
        Assert.Equal(expected.OrderBy(n => n, StringComparer.Ordinal), TorchPackages("cpu"));
    }

    [Theory]
    [InlineData("cuda-windows", "TorchSharp-cuda-windows")]
    [InlineData("cuda-linux", "TorchSharp-cuda-linux")]
    public void Cuda_backends_reference_their_package(string backend, string package)
    {
        Assert.Equal(new[] { package }, TorchPackages(backend));
    }

    [Fact]
    public void Unknown_backend_is_a_clear_build_error()
    {
        var (code, output) = Evaluate("rocm");
        Assert.NotEqual(0, code);
        Assert.Contains("TorchBackend='rocm' is not one of cpu, cuda-windows, cuda-linux (set it with -p:TorchBackend=...).", output);
    }
}
