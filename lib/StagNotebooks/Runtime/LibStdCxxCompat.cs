namespace StagNotebooks.Runtime;

/// <summary>
/// The libstdc++ fix as it stands in this process: the build marks GLIBCXX_3.4.32 weak in libLibTorchSharp.so
/// (build/ElfVersionPatch.cs, environment.md 'libstdc++'); this reads the flag back from the file actually mapped
/// (found in /proc/self/maps), and whether the loaded system libstdc++ defines that version.
/// </summary>
public sealed record LibStdCxxCompat(string Version, string? LoadedLibrary, VersionNeedState? State, string? LibStdCxx, bool? LibStdCxxHasVersion)
{
    public const string NeededVersion = "GLIBCXX_3.4.32";
    public const string TorchSharpNative = "libLibTorchSharp.so";

    /// <summary>True when the loaded libLibTorchSharp.so asks for the version weakly, i.e. the patch is in effect.</summary>
    public bool PatchInEffect => State == VersionNeedState.Weak;

    /// <summary>Inspects the libraries mapped into this process (load TorchSharp first); on Windows and macOS there is nothing to inspect.</summary>
    public static LibStdCxxCompat Inspect()
    {
        if (!OperatingSystem.IsLinux()) return new(NeededVersion, null, null, null, null);
        var torch = Mapped(name => name == TorchSharpNative);
        var cxx = Mapped(name => name.StartsWith("libstdc++.so.6", StringComparison.Ordinal));   // maps shows the real file, e.g. libstdc++.so.6.0.30
        VersionNeedState? state = null;
        bool? has = null;
        try { if (torch != null) state = ElfVersionNeeds.Read(torch, NeededVersion); } catch (Exception e) when (e is IOException or InvalidDataException) { }
        try { if (cxx != null) has = ElfVersionNeeds.Defines(cxx, NeededVersion); } catch (Exception e) when (e is IOException or InvalidDataException) { }
        return new(NeededVersion, torch, state, cxx, has);
    }

    /// <summary>One line for `stag doctor`, e.g. "GLIBCXX_3.4.32 weak in /…/libLibTorchSharp.so (system libstdc++ lacks it)".</summary>
    public string Describe()
    {
        if (!OperatingSystem.IsLinux()) return "not needed (not Linux)";
        if (LoadedLibrary == null) return $"{TorchSharpNative} is not loaded in this process";
        var host = LibStdCxxHasVersion switch
        {
            true => $"system libstdc++ has it: {LibStdCxx}",
            false => $"system libstdc++ lacks it: {LibStdCxx}",
            null => "system libstdc++ not found in this process",
        };
        return State switch
        {
            VersionNeedState.Weak => $"{Version} weak in {LoadedLibrary} ({host})",
            VersionNeedState.Required => $"NOT patched: {LoadedLibrary} requires {Version} ({host}); rebuild with `dotnet build`",
            VersionNeedState.NotNeeded => $"not needed: {LoadedLibrary} does not ask for {Version}",
            _ => $"cannot read {LoadedLibrary}",
        };
    }

    /// <summary>Path of the first mapped file whose name matches, from /proc/self/maps.</summary>
    static string? Mapped(Func<string, bool> fileName)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                int slash = line.IndexOf('/');   // the path is the last field and the only one starting with '/'
                if (slash >= 0 && fileName(Path.GetFileName(line[slash..]))) return line[slash..];
            }
        }
        catch (IOException) { }
        return null;
    }
}
