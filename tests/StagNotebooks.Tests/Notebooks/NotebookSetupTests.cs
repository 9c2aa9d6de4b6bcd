using System.Text.RegularExpressions;
using StagNotebooks.Notebooks;
using StagNotebooks.Workbench;

namespace StagNotebooks.Tests.Notebooks;

/// <summary>Every notebook opens in one line, and the session it gets knows where it writes and what it trains on.</summary>
[Collection("notebooks")]   // sets the receipt variable process-wide for a moment
public class NotebookSetupTests
{
    static readonly Regex UsingDirective = new(@"^\s*using\s+(static\s+)?[A-Za-z_][\w.]*\s*(=\s*[\w.]+\s*)?;");

    static IReadOnlyList<string> Series => NotebookSeries.Notebooks(TestPaths.Repo("notebooks"));

    static List<string> CodeCells(string notebook) =>
        NotebookDocument.Load(notebook).Cells.OfType<System.Text.Json.Nodes.JsonObject>()
            .Where(c => (string?)c["cell_type"] == "code").Select(NotebookDocument.Source).ToList();

    [Fact]
    public void Every_notebook_starts_with_its_parameters_then_one_set_up_line_naming_itself()
    {
        foreach (var nb in Series)
        {
            var cells = CodeCells(nb);
            var name = Path.GetFileNameWithoutExtension(nb);
            Assert.NotEmpty(NotebookSeries.Declared(nb));
            var lines = cells[1].Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length == 2, $"{name}: the set-up cell has {lines.Length} lines");
            Assert.StartsWith("#load \"setup.csx\"", lines[0]);
            Assert.Matches($"^var nb = Setup\\(\"{Regex.Escape(name)}\"", lines[1]);
            var usings = cells.Sum(c => c.Split('\n').Count(l => UsingDirective.IsMatch(l)));   // directives, not `using var`
            Assert.True(usings <= 2, $"{name}: {usings} using directives");
        }
    }

    [Fact]
    public void No_notebook_builds_a_table_column_by_column_its_tables_come_from_reporting_builders()
    {
        var inline = Series.SelectMany(nb => CodeCells(nb).Select((c, i) => (Notebook: Path.GetFileName(nb), Cell: i, Source: c)))
            .Where(x => Regex.IsMatch(x.Source, @"new\s+DataFrame\s*\(|new\s+\w+DataFrameColumn\s*(<[^>]*>)?\s*\("))
            .Select(x => $"{x.Notebook} code cell {x.Cell}").ToList();
        Assert.True(inline.Count == 0, "inline DataFrames (add a builder to lib/StagNotebooks/Reporting/): " + string.Join(", ", inline));
    }

    [Fact]
    public void The_namespaces_setup_imports_are_the_librarys()
    {
        var declared = typeof(NotebookSession).Assembly.GetTypes().Select(t => t.Namespace).Where(n => n != null).ToHashSet();
        foreach (var n in NotebookSession.Namespaces.Where(n => n.StartsWith("StagNotebooks", StringComparison.Ordinal)))
            Assert.Contains(n, declared);
        Assert.Contains("using StagNotebooks.Workbench;\n", NotebookSession.UsingDirectives);
    }

    [Fact]
    public void An_unknown_device_is_named_before_anything_is_set_up()
    {
        using var dir = new TestPaths.TempDir();
        var e = Assert.Throws<ArgumentException>(() => NotebookSession.Open("03-training", "smoke", 1, "tpu", dir.File("runs"), dir.File("figures")));
        Assert.Contains("tpu", e.Message);
        Assert.False(Directory.Exists(dir.File("figures")));
    }

    [Fact]
    public void A_session_makes_its_figure_folder_and_writes_its_receipt_where_the_runner_asks()
    {
        using var dir = new TestPaths.TempDir();
        var before = Environment.GetEnvironmentVariable(NotebookSession.ReceiptVariable);
        Environment.SetEnvironmentVariable(NotebookSession.ReceiptVariable, dir.File("r/11.receipt.json"));
        NotebookSession s;
        try { s = NotebookSession.Open("11-synthetic", "synth-smoke", 3, "cpu", "", dir.File("figures"), runsSubfolder: "synthetic"); }
        finally { Environment.SetEnvironmentVariable(NotebookSession.ReceiptVariable, before); }
        Assert.Equal(dir.File("figures/11-synthetic/synth-smoke-3seeds"), s.Figures.Path);
        Assert.True(Directory.Exists(s.Figures.Path));
        Assert.Equal(Path.Combine(IO.RepoPaths.Runs, "synthetic"), s.Runs);
        var r = NotebookReceipt.Read(dir.File("r/11.receipt.json"))!;
        Assert.Equal(new NotebookReceipt("11-synthetic", "synth-smoke", 3, s.Figures.Path, Path.Combine(s.Figures.Path, "verdicts.csv")), r);
        Assert.Equal(new Dictionary<string, string> { ["11-synthetic"] = "synth-smoke-3seeds" }, NotebookReceipt.LeafOverrides(new[] { r, null }, "cpu-fidelity-3seeds"));
        Assert.Empty(NotebookReceipt.LeafOverrides(new[] { r with { Figures = dir.File("figures/03-training/cpu-fidelity-3seeds") } }, "cpu-fidelity-3seeds"));
        var plain = NotebookSession.Open("02-architecture", figuresRoot: dir.File("figures"));
        Assert.Equal(dir.File("figures/02-architecture"), plain.Figures.Path);
        Assert.Empty(NotebookReceipt.LeafOverrides(new[] { plain.Receipt }, "smoke"));
    }

    [Fact]
    public void A_corrupt_receipt_is_named()
    {
        using var dir = new TestPaths.TempDir();
        File.WriteAllText(dir.File("bad.receipt.json"), "{ not json");
        var e = Assert.Throws<InvalidDataException>(() => NotebookReceipt.Read(dir.File("bad.receipt.json")));
        Assert.StartsWith(dir.File("bad.receipt.json") + ": not a notebook receipt", e.Message);
        Assert.Null(NotebookReceipt.Read(dir.File("none.json")));
    }
}
