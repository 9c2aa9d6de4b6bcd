using System.Text.RegularExpressions;

namespace StagNotebooks.Tests.Foundation;

/// <summary>
/// No method of the library or the command is over 50 lines (docs/architecture.md): a longer one is split where it
/// does two things. Counted from the signature to the closing brace of a block body (expression bodies are short by
/// construction); braces on one line balance, as interpolated strings' do.
/// </summary>
public class MethodLengthTests
{
    const int MaxLines = 50;

    static readonly Regex Signature = new(@"^\s*(public|private|internal|protected|static)[^=;]*\b(\w+)\s*(<[^>]*>)?\s*\([^;]*$");
    static readonly Regex TypeLine = new(@"\b(class|record|struct|interface|enum)\b");

    /// <summary>(method, first line, lines) of every block-bodied method in <paramref name="lines"/> longer than <paramref name="max"/>.</summary>
    public static IEnumerable<(string Name, int Line, int Length)> LongMethods(string[] lines, int max)
    {
        for (int i = 0; i < lines.Length; i++)
        {
            var m = Signature.Match(lines[i]);
            if (!m.Success || TypeLine.IsMatch(lines[i])) continue;
            int j = i;
            while (j < lines.Length && !lines[j].Contains('{') && !lines[j].Contains("=>") && !lines[j].TrimEnd().EndsWith(';')) j++;
            if (j >= lines.Length || !lines[j].Contains('{') || lines[j].Split('{')[0].Contains("=>")) continue;
            int depth = 0, k = j;
            for (; k < lines.Length; k++)
            {
                depth += lines[k].Count(c => c == '{') - lines[k].Count(c => c == '}');
                if (depth == 0) break;
            }
            if (k - i + 1 > max) yield return (m.Groups[2].Value, i + 1, k - i + 1);
            i = k;
        }
    }

    [Fact]
    public void No_method_of_the_library_or_the_command_is_over_50_lines()
    {
        var found = new[] { "StagNotebooks", "StagNotebooks.Notebooks", "Stag" }
            .SelectMany(p => Directory.GetFiles(TestPaths.Repo("lib", p), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(p => p is "bin" or "obj"))
            .SelectMany(f => LongMethods(File.ReadAllLines(f), MaxLines).Select(x => $"{Path.GetRelativePath(TestPaths.RepoRoot, f)}:{x.Line} {x.Name} ({x.Length} lines)"))
            .ToList();
        Assert.True(found.Count == 0, "methods over 50 lines:\n" + string.Join("\n", found));
    }

    [Fact]
    public void The_scan_counts_a_block_body_from_its_signature_to_its_closing_brace()
    {
        var body = Enumerable.Range(0, 49).Select(i => $"        int x{i} = {{ }}.Length;").ToArray();   // braces balanced on a line
        string[] Method(int bodyLines) => new[] { "    public static int F(int a,", "                        int b)", "    {" }
            .Concat(body.Take(bodyLines)).Append("    }").Append("    public int G() => 1;").ToArray();
        Assert.Empty(LongMethods(Method(45), 50));                                   // 3 + 45 + 1 = 49 lines
        Assert.Equal(new[] { ("F", 1, 53) }, LongMethods(Method(49), 50).ToArray());  // 3 + 49 + 1 = 53
    }
}
