using System.Globalization;
using System.Text.Json.Nodes;
using StagNotebooks.Reporting;

namespace StagNotebooks.Notebooks;

/// <summary>
/// What <see cref="CommittedNotebook.Check"/> found in one notebook. <see cref="Executed"/>: it carries outputs or an
/// execution stamp (a notebook with neither is committed unexecuted, which is one of the <see cref="Problems"/>).
/// </summary>
public sealed record NotebookCheck(string Path, bool Executed, IReadOnlyList<string> Problems)
{
    public bool Passes => Problems.Count == 0;
}

/// <summary>
/// Whether a notebook may be committed executed: each problem is one message naming the notebook (and the cell,
/// numbered from 1 as the runners number them). It must be executed (outputs and the stamp of
/// <see cref="NotebookStamp"/>), not stale (every code cell's source hash is the one it was executed with, no cell
/// added or removed since), free of error outputs, valid nbformat 4, at most <see cref="MaxBytes"/>, with every JSON
/// mime value parsed (a string there is the kernel's unparsed value, which JupyterLab cannot draw) and no plotly.js in
/// an output (figures are a PNG plus Plotly data: <see cref="FigureBundle"/>).
/// </summary>
public static class CommittedNotebook
{
    /// <summary>1.5 MB: what a committed notebook may weigh (GitHub renders it, the repository stays small).</summary>
    public const long MaxBytes = 1_500_000;

    public static NotebookCheck Check(string path)
    {
        var problems = new List<string>();
        var size = new FileInfo(path).Length;
        if (size > MaxBytes)
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"notebook {path}: {size / 1e6:F2} MB, over the {MaxBytes / 1e6:F1} MB a committed notebook may weigh"));
        NotebookDocument doc;
        try { doc = NotebookDocument.Load(path); }
        catch (InvalidDataException e) { problems.Add(e.Message); return new NotebookCheck(path, false, problems); }
        problems.AddRange(NotebookSchema.ValidateJson(doc.Root).Take(5).Select(e => $"notebook {path}: not valid nbformat 4: {e}"));
        var stamped = doc.Root["metadata"]?[NotebookStamp.Key] is JsonObject;
        var withOutputs = CodeCells(doc).Any(c => c.Cell["outputs"] is JsonArray { Count: > 0 });
        if (!stamped)
            problems.Add(withOutputs
                ? $"notebook {path}: outputs without an execution stamp (metadata.{NotebookStamp.Key}): execute it with `stag notebook run {path} --in-place` or tests/jupyter/run_notebooks.py --in-place"
                : $"notebook {path}: not executed (no outputs, no execution stamp)");
        else problems.AddRange(Stale(path, doc));
        foreach (var (cell, number) in CodeCells(doc))
            if (cell["outputs"] is JsonArray outputs)
                problems.AddRange(outputs.OfType<JsonObject>().SelectMany(o => OutputProblems(o)).Select(p => $"notebook {path}, cell {number}: {p}"));
        return new NotebookCheck(path, stamped || withOutputs, problems);
    }

    /// <summary>Cells whose source differs from what was executed, cells added without a stamp, and a changed cell count.</summary>
    static IEnumerable<string> Stale(string path, NotebookDocument doc)
    {
        var cells = CodeCells(doc).ToList();
        foreach (var (cell, number) in cells)
        {
            var stamp = cell["metadata"]?[NotebookStamp.Key]?["source_sha256"]?.GetValue<string>();
            if (stamp is null) yield return $"notebook {path}, cell {number}: stale: no source stamp (added after the notebook was executed)";
            else if (stamp != NotebookStamp.SourceSha256(NotebookDocument.Source(cell)))
                yield return $"notebook {path}, cell {number}: stale: its source changed after it was executed";
        }
        var executed = doc.Root["metadata"]?[NotebookStamp.Key]?["code_cells"]?.GetValue<int>();
        if (executed != cells.Count)
            yield return $"notebook {path}: stale: {cells.Count} code cells, but {executed?.ToString(CultureInfo.InvariantCulture) ?? "an unknown number"} were executed (a cell was added or removed)";
    }

    static IEnumerable<string> OutputProblems(JsonObject output)
    {
        if (output["output_type"]?.GetValue<string>() == "error")
            yield return $"error output ({output["ename"]}: {output["evalue"]})";
        if (output["data"] is not JsonObject data) yield break;
        foreach (var (mime, value) in data)
        {
            if (OutputBundle.IsJsonMime(mime) && value is JsonValue v && v.TryGetValue<string>(out _))
                yield return $"{mime} is a string, not a JSON object (the kernel's value was not parsed when the notebook was written)";
            if (mime is "text/html" or "application/javascript" && Text(value) is { } text && EmbedsPlotly(text))
                yield return $"{mime} embeds or calls plotly.js (a figure is a PNG plus {FigureBundle.PlotlyMime})";
        }
    }

    static bool EmbedsPlotly(string text) => text.Contains("plotly.js v", StringComparison.Ordinal) || text.Contains("Plotly.newPlot(", StringComparison.Ordinal);

    /// <summary>A mime value as text: nbformat allows a string or a list of lines.</summary>
    static string? Text(JsonNode? value) => value switch
    {
        JsonArray lines => string.Concat(lines.Select(l => l?.GetValue<string>() ?? "")),
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => null,
    };

    static IEnumerable<(JsonObject Cell, int Number)> CodeCells(NotebookDocument doc) =>
        doc.Cells.Select((c, i) => (Cell: (JsonObject)c!, Number: i + 1)).Where(c => NotebookDocument.IsCode(c.Cell));
}
