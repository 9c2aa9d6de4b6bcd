using System.Text.Json;
using System.Text.Json.Nodes;
using StagNotebooks.IO;

namespace StagNotebooks.Notebooks;

/// <summary>What <see cref="JupyterKernelSpec.Install"/> did.</summary>
public sealed record KernelSpecInstall(string Folder, string KernelJson, bool Changed, string Action);

/// <summary>
/// The <c>.net-csharp</c> kernelspec that Jupyter and VS Code start the .NET Interactive kernel from, registered so
/// that the kernel's HTTP server listens on loopback only. <c>dotnet interactive jupyter install</c> writes an argv
/// without <c>--http-local-only</c>, and then the kernel listens on every network interface (ports 2048–3000)
/// whenever a notebook runs. <see cref="Install"/> writes the spec with the flag, or adds the flag to a spec already
/// there (keeping the rest of its argv and fields), atomically; a spec that already has it is left alone.
/// </summary>
public static class JupyterKernelSpec
{
    public const string Name = ".net-csharp";
    public const string LocalOnlyFlag = "--http-local-only";

    /// <summary>The argv <c>dotnet interactive jupyter install</c> (1.0.712001) writes, plus <see cref="LocalOnlyFlag"/>.</summary>
    public static IReadOnlyList<string> DefaultArgv { get; } = new[]
    {
        "dotnet", "interactive", "jupyter", "--default-kernel", "csharp", "{connection_file}", LocalOnlyFlag, "--http-port-range", "2048-3000",
    };

    /// <summary>
    /// Jupyter's user data folder, by Jupyter's own rules (jupyter_core.paths.jupyter_data_dir): $JUPYTER_DATA_DIR;
    /// else on Windows %APPDATA%\jupyter, on macOS ~/Library/Jupyter, elsewhere $XDG_DATA_HOME/jupyter or
    /// ~/.local/share/jupyter. Kernelspecs live in its <c>kernels/</c> folder, where Jupyter and VS Code look.
    /// </summary>
    public static string UserDataDir()
    {
        if (Environment.GetEnvironmentVariable("JUPYTER_DATA_DIR") is { Length: > 0 } set) return set;
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (OperatingSystem.IsWindows())
            return Path.Combine(Environment.GetEnvironmentVariable("APPDATA") is { Length: > 0 } appData ? appData : Path.Combine(home, "AppData", "Roaming"), "jupyter");
        if (OperatingSystem.IsMacOS()) return Path.Combine(home, "Library", "Jupyter");
        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        return Path.Combine(string.IsNullOrEmpty(xdg) ? Path.Combine(home, ".local", "share") : xdg, "jupyter");
    }

    public static string DefaultKernelsDir() => Path.Combine(UserDataDir(), "kernels");

    /// <summary>The spec Jupyter reads: argv, display name, language, and the metadata VS Code matches the kernel by.</summary>
    public static JsonObject DefaultSpec() => new()
    {
        ["argv"] = new JsonArray(DefaultArgv.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()),
        ["display_name"] = ".NET (C#)",
        ["language"] = "C#",
        ["metadata"] = new JsonObject
        {
            ["vscode"] = new JsonObject { ["extension_id"] = "ms-dotnettools.dotnet-interactive-vscode", ["kernel_id"] = "dotnet-interactive" },
        },
    };

    /// <summary>
    /// Registers <c>.net-csharp</c> in <paramref name="kernelsDir"/> (default: <see cref="DefaultKernelsDir"/>) with
    /// <see cref="LocalOnlyFlag"/> in its argv. An existing kernel.json keeps its argv and fields and gains the flag
    /// after <c>{connection_file}</c>; <paramref name="replace"/> writes the default spec instead. Logos are copied from
    /// <paramref name="logoFolder"/> (the kernel tool's resources) when given and missing.
    /// </summary>
    public static KernelSpecInstall Install(string? kernelsDir = null, bool replace = false, string? logoFolder = null)
    {
        var folder = Path.Combine(kernelsDir ?? DefaultKernelsDir(), Name);
        var path = Path.Combine(folder, "kernel.json");
        JsonObject spec;
        string action;
        if (File.Exists(path) && !replace)
        {
            spec = Read(path);
            var argv = spec["argv"] as JsonArray;
            if (argv is null || argv.Count == 0 || argv.Any(a => a is not JsonValue v || v.GetValueKind() != JsonValueKind.String))
                throw new InvalidDataException($"{path}: \"argv\" is not a list of strings; rerun with --replace to write the default spec");
            var words = argv.Select(a => a!.GetValue<string>()).ToList();
            if (words.Contains(LocalOnlyFlag)) return new KernelSpecInstall(folder, path, false, $"{path}: already has {LocalOnlyFlag}");
            int at = words.IndexOf("{connection_file}");
            argv.Insert(at < 0 ? argv.Count : at + 1, LocalOnlyFlag);
            action = $"{path}: added {LocalOnlyFlag} to the existing spec";
        }
        else
        {
            spec = DefaultSpec();
            if (File.Exists(path) && Read(path, tolerant: true).ToJsonString() == spec.ToJsonString())
                return new KernelSpecInstall(folder, path, false, $"{path}: already has {LocalOnlyFlag}");
            action = $"{path}: wrote the .NET (C#) kernelspec with {LocalOnlyFlag}";
        }
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(path, spec.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        if (logoFolder is not null)
            foreach (var logo in new[] { "logo-32x32.png", "logo-64x64.png" })
                if (File.Exists(Path.Combine(logoFolder, logo)) && !File.Exists(Path.Combine(folder, logo)))
                    AtomicFile.Write(Path.Combine(folder, logo), tmp => File.Copy(Path.Combine(logoFolder, logo), tmp));
        return new KernelSpecInstall(folder, path, true, action);
    }

    static JsonObject Read(string path, bool tolerant = false)
    {
        try
        {
            if (JsonNode.Parse(File.ReadAllText(path)) is JsonObject spec) return spec;
            if (tolerant) return new JsonObject();
            throw new InvalidDataException($"{path}: not a JSON object; rerun with --replace to write the default spec");
        }
        catch (JsonException) when (tolerant) { return new JsonObject(); }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}); rerun with --replace to write the default spec");
        }
    }

    /// <summary>The resources folder (logos) of the installed .NET Interactive tool under ~/.dotnet/tools, or null.</summary>
    public static string? InstalledToolResources()
    {
        var store = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools", ".store", "microsoft.dotnet-interactive");
        if (!Directory.Exists(store)) return null;
        return Directory.EnumerateFiles(store, "logo-64x64.png", SearchOption.AllDirectories)
            .Select(Path.GetDirectoryName).OrderByDescending(d => d, StringComparer.Ordinal).FirstOrDefault();
    }

    /// <summary>Whether the <c>dotnet-interactive</c> global tool is installed (the spec's argv runs it).</summary>
    public static bool ToolInstalled()
    {
        var tools = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools");
        return File.Exists(Path.Combine(tools, "dotnet-interactive")) || File.Exists(Path.Combine(tools, "dotnet-interactive.exe"));
    }
}
