using System.Diagnostics;
using System.Text.Json.Nodes;
using StagNotebooks.Notebooks;
using Cell = StagNotebooks.Notebooks.NotebookDocument.Cell;

namespace StagNotebooks.Tests.Notebooks;

// The executor captures Console output per cell, which is process-wide: notebook tests never run side by side.
[Collection("notebooks")]
public class NotebookExecutorTests
{
    static string Write(TestPaths.TempDir dir, string name, params Cell[] cells)
    {
        var path = dir.File(name);
        NotebookDocument.Create(cells).Save(path);
        return path;
    }

    static JsonArray Outputs(string executed, int cellIndex) => (JsonArray)NotebookDocument.Load(executed).Cells[cellIndex]!["outputs"]!;

    [Fact]
    public void Cells_share_state_and_outputs_are_recorded_as_the_kernel_records_them()
    {
        using var dir = new TestPaths.TempDir();
        File.WriteAllText(dir.File("helpers.csx"), "int Twice(int x) => 2 * x;");
        var nb = Write(dir, "a.ipynb",
            Cell.Markdown("# A"),
            Cell.Code("#r \"nuget: TorchSharp-cpu, 0.107.0\"\n#r \"../lib/StagNotebooks/bin/Release/net8.0/StagNotebooks.dll\"\n#load \"helpers.csx\"\nvar n = Twice(21);"),
            Cell.Code("#!time\nConsole.WriteLine(\"hello\");\nvar shown = display(HTML(\"<b>bold</b>\"));\nshown.Update(\"replaced\");\nn + 1"),
            Cell.Code("var df = new Microsoft.Data.Analysis.DataFrame(new Microsoft.Data.Analysis.DoubleDataFrameColumn(\"loss\", new double[] { 1.5, 2.5 }));\ndf"));
        var run = NotebookExecutor.Run(nb);
        var outs = Outputs(run.Output, 2);
        Assert.Equal("stream", outs[0]!["output_type"]!.GetValue<string>());
        Assert.Equal("hello\n", outs[0]!["text"]!.GetValue<string>());
        Assert.Equal("replaced", outs[1]!["data"]!["text/plain"]!.GetValue<string>());
        Assert.StartsWith("Wall time: ", outs[2]!["text"]!.GetValue<string>());
        Assert.Equal("43", outs[3]!["data"]!["text/plain"]!.GetValue<string>());
        Assert.Equal("execute_result", outs[3]!["output_type"]!.GetValue<string>());
        var table = Outputs(run.Output, 3)[0]!["data"]!["text/html"]!.GetValue<string>();
        Assert.Contains("<th>loss</th>", table);
        Assert.Contains("<td>2.5</td>", table);
        Assert.Equal(3, run.CellSeconds.Count);
        Assert.NotNull(NotebookDocument.Load(run.Output).Cells[1]!["metadata"]!["stag"]!["seconds"]);
    }

    [Fact]
    public void A_chart_output_embeds_plotly_js_and_needs_no_network()
    {
        using var dir = new TestPaths.TempDir();
        var nb = Write(dir, "c.ipynb", Cell.Code(
            "StagNotebooks.Reporting.Charts.Lines(\"loss\", \"step\", \"nats\", new[] { new StagNotebooks.Reporting.Series(\"a\", new double[] { 1, 2 }, new double[] { 3, 2 }) })"));
        var html = Outputs(NotebookExecutor.Run(nb).Output, 0)[0]!["data"]!["text/html"]!.GetValue<string>();
        Assert.Contains("plotly.js v2", html);
        Assert.DoesNotContain("<script src=\"https://cdn.plot.ly", html);
        Assert.Contains("\"title\":{\"text\":\"loss\"}", html);
    }

    [Fact]
    public void A_failing_cell_names_notebook_cell_and_line_and_keeps_the_partial_output()
    {
        using var dir = new TestPaths.TempDir();
        var nb = Write(dir, "f.ipynb",
            Cell.Code("Console.WriteLine(\"ran\");"),
            Cell.Code("var a = 1;\nvar b = 2;\nthrow new InvalidOperationException(\"boom\");"));
        var e = Assert.Throws<NotebookException>(() => NotebookExecutor.Run(nb, outputPath: dir.File("out.ipynb")));
        Assert.Equal($"notebook {nb}, cell 2 (line 3): InvalidOperationException: boom", e.Message);
        Assert.Equal("ran\n", Outputs(dir.File("out.ipynb"), 0)[0]!["text"]!.GetValue<string>());
        Assert.Equal("error", Outputs(dir.File("out.ipynb"), 1)[0]!["output_type"]!.GetValue<string>());

        var compile = Write(dir, "g.ipynb", Cell.Code("var a = 1;\nvar b = undefinedThing;"));
        var ce = Assert.Throws<NotebookException>(() => NotebookExecutor.Run(compile));
        Assert.Equal($"notebook {compile}, cell 1 (line 2): CS0103: The name 'undefinedThing' does not exist in the current context", ce.Message);
    }

    [Fact]
    public void Parameters_are_overridden_as_papermill_does_and_unknown_ones_are_named()
    {
        using var dir = new TestPaths.TempDir();
        var nb = Write(dir, "p.ipynb",
            Cell.Code("var Preset = \"cpu-small\";\nint Steps = 10;\nvar Rate = 0.5;\nvar Fast = false;", "parameters"),
            Cell.Code("$\"{Preset} {Steps} {Rate} {Fast}\""));
        var run = NotebookExecutor.Run(nb, new Dictionary<string, string> { ["Preset"] = "smoke", ["Steps"] = "3", ["Rate"] = "0.25", ["Fast"] = "true" });
        var doc = NotebookDocument.Load(run.Output);
        Assert.Equal(new[] { "injected-parameters" }, NotebookDocument.Tags((JsonObject)doc.Cells[1]!));
        Assert.Equal("smoke 3 0.25 True", ((JsonArray)doc.Cells[2]!["outputs"]!)[0]!["data"]!["text/plain"]!.GetValue<string>());
        var e = Assert.Throws<NotebookException>(() => NotebookExecutor.Run(nb, new Dictionary<string, string> { ["Seeds"] = "2" }));
        Assert.Equal($"notebook {nb}: unknown parameter 'Seeds'; the parameters cell declares: Preset, Steps, Rate, Fast", e.Message);
    }

    [Fact]
    public void An_unknown_nuget_package_is_a_clear_error()
    {
        using var dir = new TestPaths.TempDir();
        var nb = Write(dir, "n.ipynb", Cell.Code("#r \"nuget: Newtonsoft.Json, 13.0.3\"\n1"));
        var e = Assert.Throws<NotebookException>(() => NotebookExecutor.Run(nb));
        Assert.Equal($"notebook {nb}, cell 1: package 'Newtonsoft.Json' is not available to the headless executor; it ships: {string.Join(", ", CellSource.ShippedPackages)}", e.Message);
    }

    [Fact]
    public void The_executed_notebook_is_valid_nbformat_4()
    {
        using var dir = new TestPaths.TempDir();
        var nb = Write(dir, "v.ipynb", Cell.Markdown("# V"), Cell.Code("var x = 2;", "parameters"), Cell.Code("display(x);\nConsole.WriteLine(x);\nx"));
        var run = NotebookExecutor.Run(nb, new Dictionary<string, string> { ["x"] = "3" });
        var errors = StagNotebooks.Reporting.NotebookSchema.Validate(run.Output);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }
}
