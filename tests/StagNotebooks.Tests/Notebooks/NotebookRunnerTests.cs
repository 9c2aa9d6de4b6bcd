using System.Text.Json.Nodes;
using StagNotebooks.Notebooks;
using Cell = StagNotebooks.Notebooks.NotebookDocument.Cell;

namespace StagNotebooks.Tests.Notebooks;

// The kernel redirects Console while a cell runs (process-wide): notebook tests never run side by side.
[Collection("notebooks")]
public class NotebookRunnerTests
{
    /// <summary>The library as a notebook references it: by path, as setup.csx does.</summary>
    static readonly string Library = $"#r \"{typeof(StagNotebooks.Model.StagFormerModel).Assembly.Location}\"";

    internal static string Write(TestPaths.TempDir dir, string name, params Cell[] cells)
    {
        var path = dir.File(name);
        NotebookDocument.Create(cells).Save(path);
        return path;
    }

    static JsonArray Outputs(string executed, int cellIndex) => (JsonArray)NotebookDocument.Load(executed).Cells[cellIndex]!["outputs"]!;

    static string Text(JsonNode output, string mime = "text/plain") => output["data"]![mime]!.GetValue<string>();

    [Fact]
    public void Cells_share_state_and_outputs_are_recorded_as_the_kernel_produces_them()
    {
        using var dir = new TestPaths.TempDir();
        File.WriteAllText(dir.File("helpers.csx"), "int Twice(int x) => 2 * x;");
        var nb = Write(dir, "a.ipynb",
            Cell.Markdown("# A"),
            Cell.Code("#load \"helpers.csx\"\nvar n = Twice(21);"),
            Cell.Code("Console.WriteLine(\"hello\");\ndisplay(\"shown\");\nn + 1"),
            Cell.Code(Library + "\nStagNotebooks.Reporting.NotebookFormatting.Register();\n" +
                      "var df = new Microsoft.Data.Analysis.DataFrame(new Microsoft.Data.Analysis.DoubleDataFrameColumn(\"loss\", new double[] { 1.5, 2.123456789 }));\ndf"));
        var run = NotebookRunner.Run(nb);
        var outs = Outputs(run.Output, 2);
        Assert.Equal("stream", outs[0]!["output_type"]!.GetValue<string>());
        Assert.Equal("hello\n", outs[0]!["text"]!.GetValue<string>());
        Assert.Equal("display_data", outs[1]!["output_type"]!.GetValue<string>());
        Assert.Equal("shown", Text(outs[1]!));
        Assert.Equal("execute_result", outs[2]!["output_type"]!.GetValue<string>());
        Assert.Contains("43", Text(outs[2]!, "text/html"));            // the kernel's own formatting of an int
        var table = Outputs(run.Output, 3)[0]!;
        Assert.Contains("<th>loss</th>", Text(table, "text/html"));
        Assert.Contains(">2.12<", Text(table, "text/html"));          // 3 significant digits, as every table (IO/NumberText)
        Assert.Equal("loss\n1.50\n2.12\n", Text(table).Replace("\r", ""));
        Assert.Equal(3, run.CellSeconds.Count);
        Assert.NotNull(NotebookDocument.Load(run.Output).Cells[1]!["metadata"]!["stag"]!["seconds"]);
    }

    /// <summary>The real kernel imports no System.IO: neither does the headless runner (they are one engine).</summary>
    [Fact]
    public void Path_needs_using_System_IO_exactly_as_in_the_kernel_users_open()
    {
        using var dir = new TestPaths.TempDir();
        var bare = Write(dir, "bare.ipynb", Cell.Code("Path.Combine(\"a\", \"b\")"));
        var e = Assert.Throws<NotebookException>(() => NotebookRunner.Run(bare));
        Assert.Equal($"notebook {bare}, cell 1: (1,1): error CS0103: The name 'Path' does not exist in the current context", e.Message);
        var with = Write(dir, "with.ipynb", Cell.Code("using System.IO;\nPath.Combine(\"a\", \"b\")"));
        Assert.Contains("a/b", Text(Outputs(NotebookRunner.Run(with).Output, 0)[0]!, "text/plain").Replace('\\', '/'));
    }

    [Fact]
    public void A_figure_embeds_plotly_js_once_and_needs_no_network()
    {
        using var dir = new TestPaths.TempDir();
        const string chart = "StagNotebooks.Reporting.Charts.Lines(\"loss\", \"step\", \"nats\", new[] { new StagNotebooks.Reporting.Series(\"a\", new double[] { 1, 2 }, new double[] { 3, 2 }) })";
        var nb = Write(dir, "c.ipynb", Cell.Code(Library + "\nStagNotebooks.Reporting.NotebookFormatting.Register();\n" + chart), Cell.Code(chart));
        var run = NotebookRunner.Run(nb);
        var first = Text(Outputs(run.Output, 0)[0]!, "text/html");
        Assert.Contains("plotly.js v2", first);
        Assert.DoesNotContain("<script src=", first);                  // nothing fetched: plotly.js is inline
        Assert.Contains("\"title\":{\"text\":\"loss\"}", first);
        var second = Text(Outputs(run.Output, 1)[0]!, "text/html");
        Assert.DoesNotContain("plotly.js v2", second);                 // the kernel already has the global Plotly
        Assert.Contains("Plotly.newPlot(", second);
    }

    [Fact]
    public void A_failing_cell_names_notebook_cell_and_diagnostic_and_keeps_the_partial_output()
    {
        using var dir = new TestPaths.TempDir();
        var nb = Write(dir, "f.ipynb",
            Cell.Code("Console.WriteLine(\"ran\");"),
            Cell.Code("var a = 1;\nthrow new InvalidOperationException(\"boom\");"),
            Cell.Code("Console.WriteLine(\"never\");"));
        var e = Assert.Throws<NotebookException>(() => NotebookRunner.Run(nb, outputPath: dir.File("out.ipynb")));
        Assert.Equal($"notebook {nb}, cell 2: System.InvalidOperationException: boom", e.Message);
        Assert.Equal("ran\n", Outputs(dir.File("out.ipynb"), 0)[0]!["text"]!.GetValue<string>());
        var error = Outputs(dir.File("out.ipynb"), 1)[0]!;
        Assert.Equal("error", error["output_type"]!.GetValue<string>());
        Assert.Equal("InvalidOperationException", error["ename"]!.GetValue<string>());
        Assert.Empty(Outputs(dir.File("out.ipynb"), 2));

        var compile = Write(dir, "g.ipynb", Cell.Code("var a = 1;\nvar b = undefinedThing;"));
        var ce = Assert.Throws<NotebookException>(() => NotebookRunner.Run(compile));
        Assert.Equal($"notebook {compile}, cell 1: (2,9): error CS0103: The name 'undefinedThing' does not exist in the current context", ce.Message);
    }

    [Fact]
    public void Parameters_are_overridden_as_papermill_does_and_unknown_ones_are_named()
    {
        using var dir = new TestPaths.TempDir();
        var nb = Write(dir, "p.ipynb",
            Cell.Code("var Preset = \"cpu-small\";\nint Steps = 10;\nvar Rate = 0.5;\nvar Fast = false;", "parameters"),
            Cell.Code("$\"{Preset} {Steps} {Rate} {Fast}\""));
        var run = NotebookRunner.Run(nb, new Dictionary<string, string> { ["Preset"] = "smoke", ["Steps"] = "3", ["Rate"] = "0.25", ["Fast"] = "true" });
        var doc = NotebookDocument.Load(run.Output);
        Assert.Equal(new[] { "injected-parameters" }, NotebookDocument.Tags((JsonObject)doc.Cells[1]!));
        Assert.Equal("smoke 3 0.25 True", Text(((JsonArray)doc.Cells[2]!["outputs"]!)[0]!));
        var e = Assert.Throws<NotebookException>(() => NotebookRunner.Run(nb, new Dictionary<string, string> { ["Seeds"] = "2" }));
        Assert.Equal($"notebook {nb}: unknown parameter 'Seeds'; the parameters cell declares: Preset, Steps, Rate, Fast", e.Message);
    }

    [Fact]
    public void An_unknown_nuget_package_fails_with_the_kernels_own_message()
    {
        using var dir = new TestPaths.TempDir();
        var nb = Write(dir, "n.ipynb", Cell.Code("#r \"nuget: No.Such.Package.Stag, 1.0.0\"\n1"));
        var e = Assert.Throws<NotebookException>(() => NotebookRunner.Run(nb));
        Assert.StartsWith($"notebook {nb}, cell 1: ", e.Message);
        Assert.Contains("No.Such.Package.Stag", e.Message);
    }

    [Fact]
    public void The_executed_notebook_is_valid_nbformat_4()
    {
        using var dir = new TestPaths.TempDir();
        var nb = Write(dir, "v.ipynb", Cell.Markdown("# V"), Cell.Code("var x = 2;", "parameters"), Cell.Code("display(x);\nConsole.WriteLine(x);\nx"));
        var run = NotebookRunner.Run(nb, new Dictionary<string, string> { ["x"] = "3" });
        NotebookValidity.AssertValid(run.Output);
    }
}
