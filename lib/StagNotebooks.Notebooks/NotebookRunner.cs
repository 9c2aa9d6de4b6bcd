using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.Events;

namespace StagNotebooks.Notebooks;

/// <summary>How an executed notebook went: where it was written, and the seconds each code cell took.</summary>
public sealed record NotebookRun(string Notebook, string Output, IReadOnlyList<(int Cell, double Seconds)> CellSeconds, double TotalSeconds);

/// <summary>A notebook that could not run: names the notebook, the cell and the kernel's own diagnostic.</summary>
public sealed class NotebookException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Executes a notebook's C# cells in order on a fresh <see cref="NotebookKernel"/> (the real .NET Interactive
/// kernel, in-process), in the notebook's folder as Jupyter and VS Code do, and writes the executed copy with the
/// outputs the kernel produced: streams, display data (updated in place), execute results, errors. What an earlier
/// execution left (outputs, stamps, the injected-parameters cell) is cleared first, so a notebook can be executed in
/// place; a successful run stamps it (<see cref="NotebookStamp"/>). A failing cell stops the run; the notebook up to and
/// including that cell is still written, unstamped.
/// </summary>
public static class NotebookRunner
{
    /// <summary>The runner named in an executed notebook's metadata.stag.runner.</summary>
    public const string RunnerName = "stag notebook run";

    public static NotebookRun Run(string notebookPath, IReadOnlyDictionary<string, string>? parameters = null, string? outputPath = null,
                                  TextWriter? log = null, CancellationToken cancel = default) =>
        RunAsync(notebookPath, parameters, outputPath, log, cancel).GetAwaiter().GetResult();

    public static async Task<NotebookRun> RunAsync(string notebookPath, IReadOnlyDictionary<string, string>? parameters = null, string? outputPath = null,
                                                   TextWriter? log = null, CancellationToken cancel = default)
    {
        var doc = NotebookDocument.Load(notebookPath).Clone();
        NotebookStamp.Reset(doc);
        outputPath = Path.GetFullPath(outputPath ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(notebookPath))!,
                                                                 Path.GetFileNameWithoutExtension(notebookPath) + ".executed.ipynb"));
        parameters ??= new Dictionary<string, string>();
        ParametersCell.Inject(doc, parameters, notebookPath);
        var folder = Path.GetDirectoryName(Path.GetFullPath(notebookPath))!;
        var times = new List<(int, double)>();
        var total = Stopwatch.StartNew();
        int executionCount = 0;
        var previousDir = Directory.GetCurrentDirectory();
        Directory.SetCurrentDirectory(folder);   // the kernel's working directory is the notebook's, as in Jupyter and VS Code
        try
        {
            using var kernel = NotebookKernel.Create();
            for (int i = 0; i < doc.Cells.Count; i++)
            {
                var cell = (JsonObject)doc.Cells[i]!;
                if (!NotebookDocument.IsCode(cell)) continue;
                int number = i + 1;
                cell["execution_count"] = ++executionCount;
                var outputs = new CellOutputs(executionCount, log);
                cell["outputs"] = outputs.Json;
                var started = DateTimeOffset.UtcNow;
                var clock = Stopwatch.StartNew();
                var command = new SubmitCode(NotebookDocument.Source(cell), NotebookKernel.CSharp);
                string? failure;
                using (kernel.KernelEvents.Subscribe(outputs.Add))
                {
                    var result = await kernel.SendAsync(command, cancel);
                    failure = result.Events.OfType<CommandFailed>().FirstOrDefault(f => f.Command == command) is { } failed ? outputs.Failed(failed) : null;
                }
                Stamp(cell, started, clock);
                if (failure != null)
                {
                    doc.Save(outputPath);
                    throw new NotebookException($"notebook {notebookPath}, cell {number}: {failure}");
                }
                times.Add((number, clock.Elapsed.TotalSeconds));
                log?.WriteLine($"  cell {number,2}: {clock.Elapsed.TotalSeconds,7:F2} s");
            }
        }
        finally { Directory.SetCurrentDirectory(previousDir); }
        NotebookStamp.Apply(doc, new StampInfo(RunnerName, parameters, total.Elapsed.TotalSeconds));
        doc.Save(outputPath);
        return new NotebookRun(notebookPath, outputPath, times, total.Elapsed.TotalSeconds);
    }

    static void Stamp(JsonObject cell, DateTimeOffset started, Stopwatch clock)
    {
        var meta = cell["metadata"] as JsonObject ?? new JsonObject();
        cell["metadata"] = meta;
        meta["execution"] = new JsonObject   // what Jupyter records (nbformat wants strings here)
        {
            ["iopub.execute_input"] = started.ToString("o"),
            ["shell.execute_reply"] = started.Add(clock.Elapsed).ToString("o"),
        };
        meta["stag"] = new JsonObject { ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 3) };
    }
}
