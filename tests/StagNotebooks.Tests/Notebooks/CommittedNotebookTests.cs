using System.Text.Json.Nodes;
using StagNotebooks.Cli;
using StagNotebooks.Cli.Commands;
using StagNotebooks.Notebooks;
using Cell = StagNotebooks.Notebooks.NotebookDocument.Cell;

namespace StagNotebooks.Tests.Notebooks;

/// <summary>The checker on notebooks built here (no kernel): what it accepts and each problem it names.</summary>
public class CommittedNotebookTests
{
    const string Plotly = "application/vnd.plotly.v1+json";

    static JsonObject Display(JsonObject data) => new() { ["output_type"] = "display_data", ["data"] = data, ["metadata"] = new JsonObject() };

    static JsonObject Figure() => Display(new JsonObject
    {
        ["image/png"] = "iVBORw0KGgo=",
        [Plotly] = new JsonObject { ["data"] = new JsonArray(), ["layout"] = new JsonObject() },
        ["text/plain"] = "Figure \"loss\" (0 traces)",
    });

    /// <summary>A notebook as a runner leaves it: a markdown cell, two code cells with outputs, stamped.</summary>
    static NotebookDocument Executed(params JsonObject[] secondCellOutputs)
    {
        var doc = NotebookDocument.Create(Cell.Markdown("# A"), Cell.Code("var x = 1;"), Cell.Code("x + 1"));
        ((JsonObject)doc.Cells[1]!)["outputs"] = new JsonArray(new JsonObject { ["output_type"] = "stream", ["name"] = "stdout", ["text"] = "hi\n" });
        ((JsonObject)doc.Cells[2]!)["outputs"] = new JsonArray(secondCellOutputs.Length > 0 ? secondCellOutputs : [Figure()]);
        ((JsonObject)doc.Cells[1]!)["execution_count"] = 1;
        ((JsonObject)doc.Cells[2]!)["execution_count"] = 2;
        NotebookStamp.Apply(doc, new StampInfo("test", new Dictionary<string, string>(), 1.0));
        return doc;
    }

    static NotebookCheck Check(TestPaths.TempDir dir, NotebookDocument doc)
    {
        var path = dir.File("nb.ipynb");
        doc.Save(path);
        return CommittedNotebook.Check(path);
    }

    [Fact]
    public void A_freshly_stamped_notebook_passes()
    {
        using var dir = new TestPaths.TempDir();
        var check = Check(dir, Executed());
        Assert.True(check.Passes, string.Join("\n", check.Problems));
        Assert.True(check.Executed);
    }

    [Fact]
    public void An_edited_cell_is_stale_and_named()
    {
        using var dir = new TestPaths.TempDir();
        var doc = Executed();
        ((JsonObject)doc.Cells[2]!)["source"] = "x + 2";
        var check = Check(dir, doc);
        Assert.Equal([$"notebook {dir.File("nb.ipynb")}, cell 3: stale: its source changed after it was executed"], check.Problems);
    }

    [Fact]
    public void An_added_or_removed_cell_is_stale()
    {
        using var dir = new TestPaths.TempDir();
        var added = Executed();
        added.Cells.Add(NotebookDocument.Create(Cell.Code("x * 3")).Cells[0]!.DeepClone());
        var path = dir.File("nb.ipynb");
        Assert.Equal([$"notebook {path}, cell 4: stale: no source stamp (added after the notebook was executed)",
                      $"notebook {path}: stale: 3 code cells, but 2 were executed (a cell was added or removed)"], Check(dir, added).Problems);
        var removed = Executed();
        removed.Cells.RemoveAt(2);
        Assert.Equal([$"notebook {path}: stale: 1 code cells, but 2 were executed (a cell was added or removed)"], Check(dir, removed).Problems);
    }

    [Fact]
    public void A_notebook_without_outputs_is_not_executed()
    {
        using var dir = new TestPaths.TempDir();
        var check = Check(dir, NotebookDocument.Create(Cell.Code("var x = 1;")));
        Assert.False(check.Executed);
        Assert.Equal([$"notebook {dir.File("nb.ipynb")}: not executed (no outputs, no execution stamp)"], check.Problems);
        var unstamped = Executed();
        ((JsonObject)unstamped.Root["metadata"]!).Remove("stag");
        var problem = Assert.Single(Check(dir, unstamped).Problems);
        Assert.StartsWith($"notebook {dir.File("nb.ipynb")}: outputs without an execution stamp", problem);
    }

    [Fact]
    public void Error_outputs_unparsed_plotly_and_embedded_plotly_js_are_named_with_their_cell()
    {
        using var dir = new TestPaths.TempDir();
        var error = new JsonObject { ["output_type"] = "error", ["ename"] = "InvalidOperationException", ["evalue"] = "boom", ["traceback"] = new JsonArray() };
        var asString = Display(new JsonObject { [Plotly] = "{\"data\":[],\"layout\":{}}", ["text/plain"] = "Figure" });
        var embedded = Display(new JsonObject { ["text/html"] = "<script>/** plotly.js v2.35.2 */</script><div></div>" });
        var path = dir.File("nb.ipynb");
        Assert.Equal([$"notebook {path}, cell 3: error output (InvalidOperationException: boom)",
                      $"notebook {path}, cell 3: {Plotly} is a string, not a JSON object (the kernel's value was not parsed when the notebook was written)",
                      $"notebook {path}, cell 3: text/html embeds or calls plotly.js (a figure is a PNG plus {Plotly})"],
                     Check(dir, Executed(error, asString, embedded)).Problems);
    }

    [Fact]
    public void A_notebook_over_one_and_a_half_megabytes_is_too_big()
    {
        using var dir = new TestPaths.TempDir();
        var big = Display(new JsonObject { ["image/png"] = new string('A', 1_500_000) });
        var problem = Assert.Single(Check(dir, Executed(big)).Problems);
        Assert.Matches(@"^notebook .*nb\.ipynb: 1\.5\d MB, over the 1\.5 MB a committed notebook may weigh$", problem);
    }

    [Fact]
    public void A_notebook_that_breaks_nbformat_is_named()
    {
        using var dir = new TestPaths.TempDir();
        var doc = Executed();
        ((JsonObject)doc.Cells[1]!)["outputs"]![0]!.AsObject().Remove("name");
        var problems = Check(dir, doc).Problems;
        Assert.NotEmpty(problems);   // the schema's oneOf over output types reports each branch (at most 5 lines)
        Assert.InRange(problems.Count, 1, 5);
        Assert.All(problems, p => Assert.StartsWith($"notebook {dir.File("nb.ipynb")}: not valid nbformat 4: /cells/1", p));
        Assert.StartsWith($"notebook {dir.File("nb.ipynb")}: not valid nbformat 4: /cells/1/outputs/0", problems[0]);
    }

    /// <summary>What run_notebooks.py hands to `stag notebook stamp`: nbclient's notebook, sources as strings, the kernel's plotly string.</summary>
    [Fact]
    public void Stamp_command_parses_the_kernels_json_strings_and_stamps_as_the_runner_does()
    {
        using var dir = new TestPaths.TempDir();
        var doc = Executed(Display(new JsonObject { [Plotly] = "{\"data\":[],\"layout\":{}}", ["image/png"] = "", ["text/plain"] = "Figure" }));
        ((JsonObject)doc.Root["metadata"]!).Remove("stag");
        foreach (var c in doc.Cells.OfType<JsonObject>()) { c["source"] = NotebookDocument.Source(c); (c["metadata"] as JsonObject)?.Remove("stag"); }
        var path = dir.File("nb.ipynb");
        doc.Save(path);
        Assert.False(CommittedNotebook.Check(path).Passes);
        ICommand stamp = new NotebookStampCommand();
        Assert.Equal(0, stamp.Run(CommandLine.Parse([path, "--runner", "nbclient", "-p", "Preset=smoke"], stamp.Switches)));
        var check = CommittedNotebook.Check(path);
        Assert.True(check.Passes, string.Join("\n", check.Problems));
        var written = NotebookDocument.Load(path);
        var data = (JsonObject)written.Cells[2]!["outputs"]![0]!["data"]!;
        Assert.IsType<JsonObject>(data[Plotly], exactMatch: false);
        Assert.False(data.ContainsKey("image/png"));                                  // the empty PNG is dropped
        Assert.Equal("nbclient", written.Root["metadata"]!["stag"]!["runner"]!.GetValue<string>());
        Assert.Equal(NotebookStamp.SourceSha256("x + 1"), written.Cells[2]!["metadata"]!["stag"]!["source_sha256"]!.GetValue<string>());
    }

    /// <summary>The hash rule, pinned to what Python's hashlib.sha256(source.encode('utf-8')).hexdigest() gives.</summary>
    [Fact]
    public void The_source_hash_is_sha256_of_the_utf8_source_in_lower_case_hex()
    {
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", NotebookStamp.SourceSha256(""));
        Assert.Equal("b6c8b711bcf4235abf250a96966d77c6e2ee84368f4afddacc80977fb5c648ac", NotebookStamp.SourceSha256("var x = 1;\n// é"));
    }

    [Fact]
    public void Check_command_exits_1_naming_problems_and_0_when_clean()
    {
        using var dir = new TestPaths.TempDir();
        var good = dir.File("good.ipynb");
        Executed().Save(good);
        var bare = dir.File("bare.ipynb");
        NotebookDocument.Create(Cell.Code("1")).Save(bare);
        var check = new NotebookCheckCommand();
        Assert.Equal(0, check.Run(CommandLine.Parse([good], check.Switches)));
        Assert.Equal(1, check.Run(CommandLine.Parse([good, bare], check.Switches)));
        Assert.Equal(0, check.Run(CommandLine.Parse([good, bare, "--allow-unexecuted"], check.Switches)));
        Assert.Throws<CliException>(() => check.Run(CommandLine.Parse([dir.File("none.ipynb")], check.Switches)));
    }
}
