using StagNotebooks.Notebooks;

namespace StagNotebooks.Tests.Notebooks;

/// <summary>What `stag reproduce` reads to find each notebook's figure folder (no kernel runs here).</summary>
public class NotebookParameterDefaultsTests
{
    static string Nb(string name) => TestPaths.Repo("notebooks", name);

    [Fact]
    public void Effective_is_the_override_else_the_declared_default_unquoted_else_null()
    {
        var none = new Dictionary<string, string>();
        Assert.Equal("cpu-small", NotebookSeries.Effective(Nb("05-window.ipynb"), "Preset", none));
        Assert.Equal("1", NotebookSeries.Effective(Nb("05-window.ipynb"), "Seeds", none));
        Assert.Equal("smoke", NotebookSeries.Effective(Nb("05-window.ipynb"), "Preset", new Dictionary<string, string> { ["Preset"] = "smoke" }));
        // 11-synthetic has presets of its own: no Preset, a SynthPreset.
        Assert.Null(NotebookSeries.Effective(Nb("11-synthetic.ipynb"), "Preset", none));
        Assert.Equal("synth-small", NotebookSeries.Effective(Nb("11-synthetic.ipynb"), "SynthPreset", none));
        Assert.Equal("3", NotebookSeries.Effective(Nb("11-synthetic.ipynb"), "SynthSeeds", new Dictionary<string, string> { ["SynthSeeds"] = "3" }));
        Assert.Contains("MaxDocs", NotebookSeries.Declared(Nb("05-window.ipynb")).Keys);
    }
}
