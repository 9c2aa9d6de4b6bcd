using StagNotebooks.Notebooks;
using Xunit.Abstractions;

namespace StagNotebooks.Tests.Notebooks;

/// <summary>The notebooks committed in notebooks/: every one that was committed executed must pass the checker.</summary>
public class CommittedNotebooksRepositoryTests(ITestOutputHelper output)
{
    /// <summary>
    /// False for now: the notebooks are committed unexecuted until the deciding run (the judging preset, 3 seeds)
    /// executes them with `stag reproduce --in-place`. Set it to true in the commit that adds the executed notebooks:
    /// from then on an unexecuted notebook fails this test, as issue 29's acceptance asks.
    /// </summary>
    const bool RequireExecuted = false;

    [Fact]
    public void Every_committed_executed_notebook_is_current_complete_and_small()
    {
        var notebooks = NotebookSeries.Notebooks(TestPaths.Repo("notebooks"));
        Assert.NotEmpty(notebooks);
        var checks = notebooks.Select(CommittedNotebook.Check).ToList();
        var unexecuted = checks.Where(c => !c.Executed).Select(c => Path.GetFileName(c.Path)).ToList();
        output.WriteLine($"{checks.Count} notebooks, {unexecuted.Count} committed unexecuted: {string.Join(", ", unexecuted)}");
        var problems = checks.Where(c => c.Executed || RequireExecuted).SelectMany(c => c.Problems).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
