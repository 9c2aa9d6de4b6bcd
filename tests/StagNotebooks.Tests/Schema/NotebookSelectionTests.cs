using StagNotebooks.Notebooks;

namespace StagNotebooks.Tests.Schema;

/// <summary>`stag reproduce --only`: which notebooks of the series run (no kernel runs here).</summary>
public class NotebookSelectionTests
{
    static readonly IReadOnlyList<string> Series = NotebookSeries.Notebooks(TestPaths.Repo("notebooks"));

    [Fact]
    public void Only_selects_by_number_stem_or_file_name_in_series_order()
    {
        Assert.Same(Series, NotebookSeries.Select(Series, Array.Empty<string>()));
        var picked = NotebookSeries.Select(Series, new[] { "07,03-training", "11-synthetic.ipynb" });
        Assert.Equal(new[] { "03-training.ipynb", "07-recurrent.ipynb", "11-synthetic.ipynb" }, picked.Select(Path.GetFileName));
        Assert.Equal(new[] { "01-data.ipynb" }, NotebookSeries.Select(Series, new[] { "01" }).Select(Path.GetFileName));   // "01" is not "11"'s suffix
    }

    [Fact]
    public void A_name_that_matches_no_notebook_is_an_error_listing_the_series()
    {
        var e = Assert.Throws<ArgumentException>(() => NotebookSeries.Select(Series, new[] { "03", "3-training" }));
        Assert.StartsWith("no notebook '3-training'; the series: 00-setup, 01-data, 02-architecture, 03-training,", e.Message);
    }
}
