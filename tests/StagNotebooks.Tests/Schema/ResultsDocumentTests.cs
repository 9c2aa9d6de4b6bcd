using StagNotebooks.Reporting;

namespace StagNotebooks.Tests.Schema;

/// <summary>docs/results.md shows the tables the runs wrote: each block is its figures/ file's current text.</summary>
public class ResultsDocumentTests
{
    [Fact]
    public void Docs_results_is_up_to_date_with_the_figures_it_copies()
    {
        var text = File.ReadAllText(TestPaths.Repo("docs/results.md"));
        Assert.NotEmpty(ResultsDocument.Sources(text));
        Assert.Equal(text, ResultsDocument.Refresh(text, "docs/results.md", TestPaths.RepoRoot));
    }

    [Fact]
    public void A_block_is_recopied_from_its_file_and_prose_is_kept()
    {
        using var dir = new TestPaths.TempDir();
        Directory.CreateDirectory(dir.File("figures"));
        File.WriteAllText(dir.File("figures/t.md"), "| a |\n|---|\n| 2 |\n");
        var doc = "prose\n<!-- from: figures/t.md -->\n| a |\n|---|\n| 1 |\n<!-- end -->\nmore prose\n";
        Assert.Equal(new[] { "figures/t.md" }, ResultsDocument.Sources(doc));
        Assert.Equal("prose\n<!-- from: figures/t.md -->\n| a |\n|---|\n| 2 |\n<!-- end -->\nmore prose\n", ResultsDocument.Refresh(doc, "doc.md", dir.Path));
    }

    [Fact]
    public void A_block_without_its_end_or_its_file_is_named_by_line()
    {
        using var dir = new TestPaths.TempDir();
        var e = Assert.Throws<InvalidDataException>(() => ResultsDocument.Refresh("x\n<!-- from: figures/t.md -->\n| a |\n", "doc.md", dir.Path));
        Assert.Equal("doc.md, line 2: '<!-- from: figures/t.md -->' has no '<!-- end -->' before the next block or the end", e.Message);
        e = Assert.Throws<InvalidDataException>(() => ResultsDocument.Refresh("<!-- from: figures/none.md -->\n<!-- end -->\n", "doc.md", dir.Path));
        Assert.Equal("doc.md, line 1: figures/none.md does not exist (rerun what writes it, or drop the block)", e.Message);
    }
}
