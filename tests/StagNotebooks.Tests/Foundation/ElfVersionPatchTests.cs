using System.Diagnostics;
using System.IO.Compression;
using System.Reflection;
using System.Text.Json;
using StagNotebooks.Runtime;

namespace StagNotebooks.Tests.Foundation;

/// <summary>
/// The build's libstdc++ patch (build/ElfVersionPatch.cs, the same file the library compiles) on a pristine
/// libLibTorchSharp.so taken from the TorchSharp nupkg: one flag bit, nothing else, idempotent, and the patched copy
/// loads in a child `stag doctor` where the pristine one does not (on hosts whose libstdc++ lacks GLIBCXX_3.4.32).
/// </summary>
public class ElfVersionPatchTests
{
    const string Version = "GLIBCXX_3.4.32";

    static string Metadata(string key) =>
        typeof(ElfVersionPatchTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    /// <summary>Extracts runtimes/linux-x64/native/libLibTorchSharp.so from the TorchSharp nupkg in the NuGet cache (never patched: a zip).</summary>
    static string ExtractPristine(string folder)
    {
        var version = Metadata("TorchSharpVersion");
        var nupkg = Path.Combine(Metadata("NuGetPackageRoot"), "torchsharp", version, $"torchsharp.{version}.nupkg");
        Assert.True(File.Exists(nupkg), $"{nupkg} not found (restore first)");
        using var zip = ZipFile.OpenRead(nupkg);
        var entry = zip.GetEntry("runtimes/linux-x64/native/libLibTorchSharp.so") ?? throw new Xunit.Sdk.XunitException($"{nupkg} has no runtimes/linux-x64/native/libLibTorchSharp.so");
        var path = Path.Combine(folder, "libLibTorchSharp.so");
        entry.ExtractToFile(path);
        return path;
    }

    static long FlagsOffset(string path)
    {
        using var fs = File.OpenRead(path);
        return ElfVersionNeeds.FindNeedFlags(fs, path, Version);
    }

    [Fact]
    public void The_patch_sets_one_flag_bit_and_changes_nothing_else()
    {
        using var dir = new TestPaths.TempDir();
        var lib = ExtractPristine(dir.Path);
        var pristine = File.ReadAllBytes(lib);
        long at = FlagsOffset(lib);
        Assert.True(at > 0);
        Assert.Equal(VersionNeedState.Required, ElfVersionNeeds.Read(lib, Version));
        Assert.Equal(0, pristine[at] & ElfVersionNeeds.VerFlgWeak);

        Assert.Equal($"patched {lib} ({Version} marked weak)", ElfVersionNeeds.MarkWeak(lib, Version));

        var patched = File.ReadAllBytes(lib);
        Assert.Equal(pristine.Length, patched.Length);
        Assert.Equal(pristine[at] | ElfVersionNeeds.VerFlgWeak, patched[at]);
        var changed = Enumerable.Range(0, pristine.Length).Where(i => pristine[i] != patched[i]).ToArray();
        Assert.Equal(new[] { (int)at }, changed);
        Assert.Equal(VersionNeedState.Weak, ElfVersionNeeds.Read(lib, Version));
    }

    [Fact]
    public void A_second_patch_is_a_no_op()
    {
        using var dir = new TestPaths.TempDir();
        var lib = ExtractPristine(dir.Path);
        ElfVersionNeeds.MarkWeak(lib, Version);
        var once = File.ReadAllBytes(lib);
        Assert.Equal($"already weak: {Version} in {lib}", ElfVersionNeeds.MarkWeak(lib, Version));
        Assert.Equal(once, File.ReadAllBytes(lib));
    }

    [Fact]
    public void A_version_the_library_does_not_ask_for_is_left_alone()
    {
        using var dir = new TestPaths.TempDir();
        var lib = ExtractPristine(dir.Path);
        var before = File.ReadAllBytes(lib);
        Assert.Equal(VersionNeedState.NotNeeded, ElfVersionNeeds.Read(lib, "GLIBCXX_9.9.99"));
        Assert.Equal($"nothing to patch: {lib} does not ask for GLIBCXX_9.9.99", ElfVersionNeeds.MarkWeak(lib, "GLIBCXX_9.9.99"));
        Assert.Equal(before, File.ReadAllBytes(lib));
    }

    [Fact]
    public void A_file_that_is_not_ELF_is_a_clear_error_naming_it()
    {
        using var dir = new TestPaths.TempDir();
        var notElf = dir.File("libLibTorchSharp.so");
        File.WriteAllText(notElf, "version https://git-lfs.github.com/spec/v1\n");   // e.g. an LFS pointer where the library should be
        var e = Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.MarkWeak(notElf, Version));
        Assert.Equal($"{notElf} is not an ELF file (it does not start with 0x7f 'ELF')", e.Message);
        Assert.Equal("version https://git-lfs.github.com/spec/v1\n", File.ReadAllText(notElf));
    }

    [Fact]
    public void The_patched_copy_loads_in_a_child_process_and_the_pristine_one_does_not_where_the_host_lacks_the_version()
    {
        if (!OperatingSystem.IsLinux()) return;   // the patch is Linux-only
        TorchRuntime.EnsureLoaded();
        var self = TorchRuntime.LibStdCxx;   // this process's copy, in the bin folder the child mirrors
        bool hostHasVersion = self.LibStdCxxHasVersion ?? throw new Xunit.Sdk.XunitException("no libstdc++ mapped in the test process");

        using var dir = new TestPaths.TempDir();
        var lib = ExtractPristine(dir.Path);

        var (pristineExit, pristineOut) = Doctor(dir.Path, lib, "pristine");
        if (!hostHasVersion)
        {
            Assert.NotEqual(0, pristineExit);
            Assert.Contains($"version `{Version}' not found", pristineOut);
        }

        ElfVersionNeeds.MarkWeak(lib, Version);
        var (exit, output) = Doctor(dir.Path, lib, "patched");
        Assert.True(exit == 0, output);
        using var report = JsonDocument.Parse(output[output.IndexOf('{')..]);
        var loaded = Path.Combine(dir.Path, "patched", Path.GetRelativePath(AppContext.BaseDirectory, self.LoadedLibrary!));
        Assert.Contains(" weak in " + loaded + " (", report.RootElement.GetProperty("LibStdCxx").GetString());
        Assert.True(report.RootElement.GetProperty("CompatFixActive").GetBoolean());
    }

    /// <summary>Runs `stag doctor --json` from a mirror of the test's bin folder whose libLibTorchSharp.so is <paramref name="lib"/>.</summary>
    static (int Exit, string Output) Doctor(string root, string lib, string name)
    {
        var app = Path.Combine(root, name);
        Mirror(AppContext.BaseDirectory.TrimEnd('/'), app, lib);
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = root };
        // When its own copy fails, TorchSharp 0.107 consolidates copies from the NuGet cache (patched by the build) into
        // <app>/cpu and loads those; an empty cache keeps the child on the copy under test.
        psi.Environment["NUGET_PACKAGES"] = Path.Combine(root, "no-package-cache");
        foreach (var a in new[] { Path.Combine(app, "stag.dll"), "doctor", "--no-measure", "--json" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(120_000), "stag doctor did not finish in 2 minutes");
        return (p.ExitCode, stdout + stderr.Result);
    }

    /// <summary>Real folders and symbolic links to every file (libtorch is ~500 MB), except copies of the app's own entry
    /// files (the host resolves the app's real folder) and <paramref name="lib"/> in place of every libLibTorchSharp.so.</summary>
    static void Mirror(string from, string to, string lib)
    {
        Directory.CreateDirectory(to);
        foreach (var d in Directory.GetDirectories(from)) Mirror(d, Path.Combine(to, Path.GetFileName(d)), lib);
        foreach (var f in Directory.GetFiles(from))
        {
            var name = Path.GetFileName(f);
            var target = Path.Combine(to, name);
            if (name == "libLibTorchSharp.so") File.Copy(lib, target);
            else if (name.StartsWith("stag.", StringComparison.Ordinal)) File.Copy(f, target);
            else File.CreateSymbolicLink(target, f);
        }
    }
}
