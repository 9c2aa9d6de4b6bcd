using System.Text.RegularExpressions;

namespace StagNotebooks.Tests.Foundation;

/// <summary>
/// The library's namespaces depend one way, as docs/architecture.md draws them: each layer imports only the layers
/// below it, plus the few sideways edges listed there. Both `using StagNotebooks.X` lines and qualified references
/// in code (`Probing.ActivationCapture`, `StagNotebooks.Runtime.TorchRuntime`) count as imports.
/// </summary>
public class ArchitectureTests
{
    /// <summary>The layer of each top-level namespace under StagNotebooks (0 = bottom). Must match docs/architecture.md.</summary>
    static readonly IReadOnlyDictionary<string, int> Layers = new Dictionary<string, int>
    {
        ["IO"] = 0, ["Runtime"] = 0,
        ["Data"] = 1, ["Model"] = 1,
        ["Decoding"] = 2, ["Training"] = 2, ["Evaluation"] = 2, ["Probing"] = 2,
        ["Benchmarks"] = 3,
        ["Experiments"] = 4,
        ["Reporting"] = 5,
        ["Workbench"] = 6,
    };

    /// <summary>The imports allowed within one layer. Must match docs/architecture.md.</summary>
    static readonly IReadOnlySet<(string From, string To)> Sideways = new HashSet<(string, string)>
    {
        ("Evaluation", "Decoding"), ("Probing", "Decoding"),
    };

    static readonly string Names = string.Join("|", Layers.Keys);
    static readonly Regex NamespaceLine = new(@"^\s*namespace\s+StagNotebooks\.(\w+)", RegexOptions.Multiline);
    static readonly Regex UsingLine = new(@"^\s*(?:global\s+)?using\s+(?:static\s+)?(?:\w+\s*=\s*)?StagNotebooks\.(\w+)", RegexOptions.Multiline);
    static readonly Regex Qualified = new(@"(?<![\w.])(?:StagNotebooks\.)?(" + Names + @")\.([A-Z]\w*)");
    static readonly Regex TypeDeclaration = new(@"\b(?:class|record|struct|interface|enum)\s+([A-Z]\w*)");
    static readonly Regex SubNamespace = new(@"^\s*namespace\s+StagNotebooks\.\w+\.(\w+)", RegexOptions.Multiline);

    public static bool Allowed(string from, string to) => from == to || Layers[to] < Layers[from] || Sideways.Contains((from, to));

    /// <summary>Code without comments: `//` to the end of the line and `/* … */` blocks.</summary>
    static string StripComments(string source) =>
        Regex.Replace(Regex.Replace(source, @"/\*.*?\*/", "", RegexOptions.Singleline), @"//[^\n]*", "");

    /// <summary>The StagNotebooks namespaces one file imports, each with what gave it away (a using line, or the qualified name).</summary>
    public static IEnumerable<(string To, string Via)> Imports(string source, IReadOnlyDictionary<string, HashSet<string>> names)
    {
        var code = StripComments(source);
        foreach (Match m in UsingLine.Matches(code))
            yield return (m.Groups[1].Value, m.Value.Trim());
        foreach (Match m in Qualified.Matches(code))
        {
            // "Model.VocabSize" is a property of a variable named Model, "Data.Analysis" Microsoft's namespace: only
            // a type (or sub-namespace) that namespace declares makes a reference.
            var ns = m.Groups[1].Value;
            if (names.TryGetValue(ns, out var declared) && declared.Contains(m.Groups[2].Value)) yield return (ns, m.Value);
        }
    }

    static IEnumerable<string> LibraryFiles() =>
        Directory.GetFiles(TestPaths.Repo("lib", "StagNotebooks"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(p => p is "bin" or "obj"))
            .Order(StringComparer.Ordinal);

    /// <summary>Types and sub-namespaces each top-level namespace declares, read from the sources.</summary>
    static Dictionary<string, HashSet<string>> DeclaredNames(IEnumerable<(string File, string Source)> files)
    {
        var names = Layers.Keys.ToDictionary(k => k, _ => new HashSet<string>());
        foreach (var (_, source) in files)
        {
            if (NamespaceLine.Match(source) is not { Success: true } ns || !names.TryGetValue(ns.Groups[1].Value, out var set)) continue;
            foreach (Match t in TypeDeclaration.Matches(StripComments(source))) set.Add(t.Groups[1].Value);
            foreach (Match s in SubNamespace.Matches(source)) set.Add(s.Groups[1].Value);
        }
        return names;
    }

    [Fact]
    public void Every_namespace_imports_only_layers_below_it_or_an_allowed_sideways_edge()
    {
        var files = LibraryFiles().Select(f => (File: f, Source: File.ReadAllText(f))).ToList();
        var names = DeclaredNames(files);
        var violations = new List<string>();
        foreach (var (file, source) in files)
        {
            var relative = Path.GetRelativePath(TestPaths.RepoRoot, file).Replace('\\', '/');
            var ns = NamespaceLine.Match(source);
            Assert.True(ns.Success, $"{relative}: no `namespace StagNotebooks.X` line");
            var from = ns.Groups[1].Value;
            Assert.True(Layers.ContainsKey(from), $"{relative}: namespace StagNotebooks.{from} has no layer in the rule table (add it here and in docs/architecture.md)");
            foreach (var (to, via) in Imports(source, names).DistinctBy(i => i.To))
                if (!Allowed(from, to)) violations.Add($"{relative}: {from} → {to} (via `{via}`)");
        }
        Assert.True(violations.Count == 0, "forbidden dependencies (see docs/architecture.md):\n" + string.Join("\n", violations));
    }

    [Fact]
    public void The_scanner_sees_using_lines_and_qualified_references_but_not_comments_or_members()
    {
        var names = new Dictionary<string, HashSet<string>>
        {
            ["Probing"] = new() { "ActivationCapture" }, ["Runtime"] = new() { "TorchRuntime" }, ["Model"] = new() { "StagFormerConfig" },
            ["Data"] = new() { "TokenFile" }, ["Reporting"] = new() { "AtomicFile" },
        };
        var source = """
            using StagNotebooks.Decoding;
            using static StagNotebooks.IO.AtomicFile;
            namespace StagNotebooks.Model;
            // Reporting.AtomicFile in a comment is no import
            class C
            {
                void F() { Probing.ActivationCapture.Current?.Record(); var d = StagNotebooks.Runtime.TorchRuntime.Backend; }
                int G(Holder h) => h.Model.VocabSize + Model.StagFormerConfig.Default.DModel + Data.Analysis.Count;
            }
            """;
        var found = Imports(source, names).Select(i => i.To).Distinct().Order().ToArray();
        Assert.Equal(new[] { "Decoding", "IO", "Model", "Probing", "Runtime" }, found);
    }

    [Fact]
    public void The_rule_table_is_the_one_docs_architecture_md_shows()
    {
        var doc = File.ReadAllText(TestPaths.Repo("docs", "architecture.md"));
        var layers = new Dictionary<string, int>();
        foreach (Match row in Regex.Matches(doc, @"^\|\s*(\d+)\s*\|([^|\n]*)\|", RegexOptions.Multiline))
            foreach (Match name in Regex.Matches(row.Groups[2].Value, @"`(\w+)`"))
                layers[name.Groups[1].Value] = int.Parse(row.Groups[1].Value);
        Assert.Equal(Layers.OrderBy(x => x.Key), layers.OrderBy(x => x.Key));

        var edges = Regex.Matches(doc, @"^\|\s*`(\w+)`\s*→\s*`(\w+)`\s*\|", RegexOptions.Multiline)
            .Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToHashSet();
        Assert.True(Sideways.SetEquals(edges), $"sideways edges here: {string.Join(", ", Sideways)}; in docs/architecture.md: {string.Join(", ", edges)}");
    }
}
