namespace StagNotebooks.Tests.Notebooks;

/// <summary>Checks an executed notebook against the nbformat 4 schema (in .NET: the tests need only the SDK).</summary>
static class NotebookValidity
{
    public static void AssertValid(string path)
    {
        var errors = Reporting.NotebookSchema.Validate(path);
        Assert.True(errors.Count == 0, $"{path}: " + string.Join("; ", errors.Take(5)));
    }
}
