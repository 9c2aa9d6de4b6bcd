namespace StagNotebooks.Tests;

/// <summary>Locations in the repository, found from the test assembly's folder.</summary>
public static class TestPaths
{
    public static string RepoRoot { get; } = FindRoot();

    static string FindRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d != null && !File.Exists(Path.Combine(d.FullName, "StagNotebooks.sln"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException("StagNotebooks.sln not found above " + AppContext.BaseDirectory);
    }

    public static string Repo(params string[] parts) => Path.Combine(new[] { RepoRoot }.Concat(parts).ToArray());

    /// <summary>The built `stag` (the CLI's target framework is the one the tests run on).</summary>
    public static string Stag => Path.Combine(RepoRoot, "lib", "Stag", "bin", "Release", Path.GetFileName(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)), "stag.dll");

    /// <summary>A fresh temporary folder, deleted when disposed.</summary>
    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "stagtest-" + Guid.NewGuid().ToString("N")[..10]);
        public TempDir() => Directory.CreateDirectory(Path);
        public string File(string name) => System.IO.Path.Combine(Path, name);
        public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
    }
}
