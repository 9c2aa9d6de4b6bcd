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

    const string Chart = "StagNotebooks.Reporting.Charts.Lines(\"loss\", \"step\", \"nats\", new[] { new StagNotebooks.Reporting.Series(\"a\", new double[] { 1, 2 }, new double[] { 3, 2 }) })";

    /// <summary>Runs a notebook showing one figure with PNGs on or off; returns the figure's output bundle and the executed notebook.</summary>
    static (JsonObject Data, string Executed) FigureBundleOf(TestPaths.TempDir dir, bool pngs)
    {
        var before = StagNotebooks.Reporting.FigureWriter.RenderPngs;
        StagNotebooks.Reporting.FigureWriter.RenderPngs = pngs;
        try
        {
            var nb = Write(dir, $"fig-{pngs}.ipynb", Cell.Code(Library + "\nStagNotebooks.Reporting.NotebookFormatting.Register();"),
                           Cell.Code($"StagNotebooks.Reporting.Figures.Save({Chart}, @\"{dir.File("figures")}\", \"loss\")"));
            var run = NotebookRunner.Run(nb);
            return ((JsonObject)Outputs(run.Output, 1)[0]!["data"]!, run.Output);
        }
        finally { StagNotebooks.Reporting.FigureWriter.RenderPngs = before; }
    }

    /// <summary>Without a PNG: the Plotly data as an object, the HTML note (no plotly.js) and text naming the standalone file; the checker accepts it.</summary>
    [Fact]
    public void A_figure_without_png_is_plotly_data_plus_a_note_and_passes_the_check()
    {
        using var dir = new TestPaths.TempDir();
        var (data, executed) = FigureBundleOf(dir, pngs: false);
        Assert.Equal(new[] { "text/html", "application/vnd.plotly.v1+json", "text/plain" }, data.Select(kv => kv.Key));
        var plotly = Assert.IsType<JsonObject>(data["application/vnd.plotly.v1+json"], exactMatch: false);
        Assert.Equal("loss", plotly["layout"]!["title"]!["text"]!.GetValue<string>());
        Assert.Equal("a", plotly["data"]![0]!["name"]!.GetValue<string>());
        var html = Text(data, "text/html");
        Assert.DoesNotContain("<script", html);
        Assert.Contains(dir.File("figures/loss.html"), html);                   // outside the repository: the path as saved
        Assert.Equal($"Figure \"loss\" (1 traces) — interactive: {dir.File("figures/loss.html")}", Text(data));
        var check = CommittedNotebook.Check(executed);
        Assert.True(check.Passes, string.Join("\n", check.Problems));
        var stamp = NotebookDocument.Load(executed).Root["metadata"]!["stag"]!;
        Assert.Equal(NotebookRunner.RunnerName, stamp["runner"]!.GetValue<string>());
        Assert.Equal(2, stamp["code_cells"]!.GetValue<int>());
    }

    /// <summary>With Chromium (installed by hand on a workstation; CI has none): the PNG replaces the HTML note.</summary>
    [Fact]
    public void A_figure_with_chromium_is_a_png_plus_plotly_data()
    {
        using var dir = new TestPaths.TempDir();
        var (data, executed) = FigureBundleOf(dir, pngs: true);
        if (StagNotebooks.Reporting.FigureWriter.Chromium is null)
        {
            Assert.True(data.ContainsKey("text/html"), "without Chromium the bundle keeps the HTML note");
            return;
        }
        Assert.Equal(new[] { "image/png", "application/vnd.plotly.v1+json", "text/plain" }, data.Select(kv => kv.Key));
        var png = Convert.FromBase64String(Text(data, "image/png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.True(CommittedNotebook.Check(executed).Passes);
    }

    static string Text(JsonObject data, string mime = "text/plain") => data[mime]!.GetValue<string>();

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
