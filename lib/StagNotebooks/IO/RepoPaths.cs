namespace StagNotebooks.IO;

/// <summary>Where the repository's bundled files are: found by walking up to StagNotebooks.sln, or STAGNOTEBOOKS_ROOT.</summary>
public static class RepoPaths
{
    static string? _root;

    public static string Root => _root ??= Find();

    static string Find()
    {
        var env = Environment.GetEnvironmentVariable("STAGNOTEBOOKS_ROOT");
        if (!string.IsNullOrEmpty(env)) return Path.GetFullPath(env);
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory, Path.GetDirectoryName(typeof(RepoPaths).Assembly.Location) ?? "" })
        {
            for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "StagNotebooks.sln"))) return d.FullName;
        }
        throw new DirectoryNotFoundException("the StagNotebooks repository was not found above the current folder or the library; set STAGNOTEBOOKS_ROOT");
    }

    public static string Data(params string[] parts) => Path.Combine(new[] { Root, "data" }.Concat(parts).ToArray());
    /// <summary>The bundled corpus split: data/brown/{split}.jsonl.zst.</summary>
    public static string BrownSplit(string split) => Data("brown", $"{split}.jsonl.zst");
    public static string Runs => Path.Combine(Root, "runs");
    public static string Figures => Path.Combine(Root, "figures");
}
