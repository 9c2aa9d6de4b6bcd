using System.Text;
using StagNotebooks.IO;

namespace StagNotebooks.Reporting;

/// <summary>
/// docs/results.md holds the long result tables, copied from the files the runs wrote under figures/: each copy sits
/// between <c>&lt;!-- from: figures/….md --&gt;</c> and <c>&lt;!-- end --&gt;</c>, so the table a reader sees is the
/// table a run computed. <see cref="Refresh"/> recopies every block (`stag docs results`); a test checks that doing
/// so changes nothing, i.e. that the document is up to date with figures/. Prose around the blocks is the author's.
/// </summary>
public static class ResultsDocument
{
    const string From = "<!-- from: ", End = "<!-- end -->";

    /// <summary>The figures files the document copies from, in order (paths relative to the repository).</summary>
    public static IReadOnlyList<string> Sources(string markdown) =>
        markdown.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith(From, StringComparison.Ordinal)).Select(SourceOf).ToList();

    static string SourceOf(string line) => line[From.Length..].TrimEnd().TrimEnd('>').TrimEnd('-').Trim();

    /// <summary>
    /// The document with every block replaced by its source file's current text (the provenance footer included).
    /// </summary>
    /// <exception cref="InvalidDataException">a block without its end, or a source that does not exist, named with the document's line</exception>
    public static string Refresh(string markdown, string documentName, string repoRoot)
    {
        var lines = markdown.Replace("\r\n", "\n").Split('\n');
        var output = new StringBuilder();
        for (int i = 0; i < lines.Length; i++)
        {
            output.Append(lines[i]).Append(i < lines.Length - 1 ? "\n" : "");
            if (!lines[i].StartsWith(From, StringComparison.Ordinal)) continue;
            int end = Array.FindIndex(lines, i + 1, l => l.StartsWith(From, StringComparison.Ordinal) || l == End);
            if (end < 0 || lines[end] != End)
                throw new InvalidDataException($"{documentName}, line {i + 1}: '{lines[i]}' has no '{End}' before the next block or the end");
            var source = SourceOf(lines[i]);
            var path = Path.Combine(repoRoot, source);
            if (!File.Exists(path)) throw new InvalidDataException($"{documentName}, line {i + 1}: {source} does not exist (rerun what writes it, or drop the block)");
            output.Append(File.ReadAllText(path).Replace("\r\n", "\n").TrimEnd('\n')).Append('\n').Append(End).Append(end < lines.Length - 1 ? "\n" : "");
            i = end;
        }
        return output.ToString();
    }

    /// <summary>docs/results.md of this repository, refreshed and written (atomically); returns whether it changed.</summary>
    public static bool RefreshFile(string path, string repoRoot)
    {
        var before = File.ReadAllText(path);
        var after = Refresh(before, Path.GetRelativePath(repoRoot, path), repoRoot);
        if (after == before) return false;
        AtomicFile.WriteAllText(path, after);
        return true;
    }
}
