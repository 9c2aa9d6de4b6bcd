using System.Text.Json.Nodes;
using StagNotebooks.Reporting;

namespace StagNotebooks.Tests.Schema;

public class NotebookSchemaTests
{
    // A markdown cell, then a code cell with a stream and an execute_result output: valid nbformat 4.5.
    const string Valid = """
        {
          "cells": [
            { "cell_type": "markdown", "id": "cell-01", "metadata": {}, "source": ["# Title"] },
            { "cell_type": "code", "id": "cell-02", "metadata": {}, "execution_count": 1, "source": ["1 + 1"],
              "outputs": [
                { "output_type": "stream", "name": "stdout", "text": ["hello\n"] },
                { "output_type": "execute_result", "execution_count": 1, "metadata": {}, "data": { "text/plain": "2" } }
              ] }
          ],
          "metadata": { "kernelspec": { "display_name": ".NET (C#)", "language": "C#", "name": ".net-csharp" } },
          "nbformat": 4,
          "nbformat_minor": 5
        }
        """;

    static IReadOnlyList<NotebookSchemaError> ValidateEdited(TestPaths.TempDir dir, Action<JsonObject> edit)
    {
        var nb = JsonNode.Parse(Valid)!.AsObject();
        edit(nb);
        var path = dir.File("n.ipynb");
        File.WriteAllText(path, nb.ToJsonString());
        return NotebookSchema.Validate(path);
    }

    static JsonObject CodeCell(JsonObject nb) => nb["cells"]![1]!.AsObject();

    [Fact]
    public void A_valid_notebook_has_no_errors()
    {
        using var dir = new TestPaths.TempDir();
        Assert.Empty(ValidateEdited(dir, _ => { }));
    }

    [Fact]
    public void The_repository_notebooks_are_valid_nbformat_4()
    {
        var notebooks = Directory.GetFiles(TestPaths.Repo("notebooks"), "*.ipynb");
        Assert.NotEmpty(notebooks);
        foreach (var nb in notebooks)
        {
            var errors = NotebookSchema.Validate(nb);
            Assert.True(errors.Count == 0, nb + ":\n" + string.Join("\n", errors));
        }
    }

    [Fact]
    public void A_code_cell_without_outputs_is_named_by_its_location()
    {
        using var dir = new TestPaths.TempDir();
        var errors = ValidateEdited(dir, nb => CodeCell(nb).Remove("outputs"));
        Assert.Contains(errors, e => e.Location == "/cells/1" && e.Keyword == "required" && e.Message.Contains("outputs"));
        Assert.All(errors, e => Assert.StartsWith("/cells/1", e.Location));   // the valid markdown cell reports nothing
    }

    [Fact]
    public void A_bad_output_type_is_named_by_its_location()
    {
        using var dir = new TestPaths.TempDir();
        var errors = ValidateEdited(dir, nb => CodeCell(nb)["outputs"]![0]!["output_type"] = "printout");
        Assert.NotEmpty(errors);
        Assert.Contains(errors, e => e.Location == "/cells/1/outputs/0/output_type" && e.Keyword == "enum");
        // The cell then matches none of the cell types, so the other branches report too; the deepest location comes first.
        Assert.All(errors, e => Assert.StartsWith("/cells/1", e.Location));
        Assert.StartsWith("/cells/1/outputs/0", errors[0].ToString());
    }

    [Fact]
    public void A_wrong_nbformat_version_is_an_error()
    {
        using var dir = new TestPaths.TempDir();
        var errors = ValidateEdited(dir, nb => nb["nbformat"] = 3);
        Assert.Contains(errors, e => e.Location == "/nbformat");
    }

    [Fact]
    public void A_file_that_is_not_JSON_names_the_file_and_line()
    {
        using var dir = new TestPaths.TempDir();
        var path = dir.File("broken.ipynb");
        File.WriteAllText(path, "{\n  \"cells\": [\n    oops\n}");
        var e = Assert.Throws<InvalidDataException>(() => NotebookSchema.Validate(path));
        Assert.StartsWith($"{path}: not JSON (line 3): ", e.Message);
    }
}
