using System.Text.Json.Nodes;

namespace StagNotebooks.Notebooks;

/// <summary>What a cell's code sees besides its usings: the kernel's <c>display</c> and <c>HTML</c>.</summary>
public sealed class NotebookGlobals
{
    internal Func<object?, JsonObject>? AddDisplay;

    /// <summary>The cell line of the top-level statement running now (set by code the executor inserts).</summary>
    public int __line;

    /// <summary>Shows a value below the cell (as display_data); the returned handle updates it in place.</summary>
    public DisplayedValue display(object? value)
    {
        var output = AddDisplay?.Invoke(value) ?? throw new InvalidOperationException("display() outside a running cell");
        return new DisplayedValue(output);
    }

    /// <summary>Raw HTML for display.</summary>
    public HtmlString HTML(string html) => new(html);
}
