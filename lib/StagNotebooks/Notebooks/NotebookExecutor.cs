using System.Diagnostics;
using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace StagNotebooks.Notebooks;

/// <summary>How an executed notebook went: where it was written, and the seconds each code cell took.</summary>
public sealed record NotebookRun(string Notebook, string Output, IReadOnlyList<(int Cell, double Seconds)> CellSeconds, double TotalSeconds);

/// <summary>
/// Runs the C# code cells of a Polyglot notebook headless, in order, with shared state, on Roslyn scripting (the
/// engine the .NET Interactive C# kernel used; the kernel itself is deprecated and not in our registries).
/// Outputs are recorded as the kernel records them; the executed notebook is written even when a cell fails, and
/// the failure names the notebook, the cell and the line.
/// </summary>
public static class NotebookExecutor
{
    static readonly Lazy<ScriptOptions> BaseOptions = new(() =>
    {
        // Everything the library uses is referenced, so notebooks need no #r beyond the documented ones.
        foreach (var t in new[] { typeof(TorchSharp.torch), typeof(Microsoft.ML.Tokenizers.Tokenizer), typeof(Microsoft.Data.Analysis.DataFrame),
                                  typeof(Plotly.NET.GenericChart), typeof(Microsoft.FSharp.Core.FSharpOption<>), typeof(System.Text.Json.JsonSerializer) })
            _ = t.Assembly;
        var assemblies = AppDomain.CurrentDomain.GetAssemblies().Where(a => !a.IsDynamic && !string.IsNullOrEmpty(a.Location)).ToList();
        return ScriptOptions.Default
            .WithReferences(assemblies)
            .WithImports("System", "System.IO", "System.Linq", "System.Collections.Generic", "System.Threading.Tasks")
            .WithLanguageVersion(Microsoft.CodeAnalysis.CSharp.LanguageVersion.Latest);
    });

    /// <summary>Executes <paramref name="notebookPath"/> with parameter overrides and writes the executed copy to <paramref name="outputPath"/>.</summary>
    public static NotebookRun Run(string notebookPath, IReadOnlyDictionary<string, string>? parameters = null, string? outputPath = null, Action<string>? log = null)
    {
        var doc = NotebookDocument.Load(notebookPath).Clone();
        outputPath ??= Path.Combine(Path.GetDirectoryName(Path.GetFullPath(notebookPath))!, Path.GetFileNameWithoutExtension(notebookPath) + ".executed.ipynb");
        ParametersCell.Inject(doc, parameters ?? new Dictionary<string, string>(), notebookPath);
        var folder = Path.GetDirectoryName(Path.GetFullPath(notebookPath))!;
        var options = BaseOptions.Value
            .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(folder))
            .WithSourceResolver(new SourceFileResolver(Array.Empty<string>(), folder));
        var globals = new NotebookGlobals();
        ScriptState<object>? state = null;
        var times = new List<(int, double)>();
        var total = Stopwatch.StartNew();
        int executionCount = 0;
        bool plotlyShown = false;
        var previousDir = Directory.GetCurrentDirectory();
        Directory.SetCurrentDirectory(folder);   // relative paths in a notebook mean what they mean in the editor
        try
        {
            for (int i = 0; i < doc.Cells.Count; i++)
            {
                var cell = (JsonObject)doc.Cells[i]!;
                if (!NotebookDocument.IsCode(cell)) continue;
                int number = i + 1;
                string where = $"notebook {notebookPath}, cell {number}";
                var outputs = new JsonArray();
                cell["outputs"] = outputs;
                cell["execution_count"] = ++executionCount;
                var started = DateTimeOffset.UtcNow;
                var clock = Stopwatch.StartNew();
                globals.__line = 0;
                var stdout = new StringWriter();
                var originalOut = Console.Out;
                globals.AddDisplay = value =>
                {
                    FlushStream(outputs, stdout);
                    var o = new JsonObject { ["output_type"] = "display_data", ["data"] = Bundle(value, ref plotlyShown), ["metadata"] = new JsonObject() };
                    outputs.Add(o);
                    return o;
                };
                try
                {
                    var source = CellSource.Prepare(NotebookDocument.Source(cell), where);
                    var cellOptions = options.WithFilePath(Path.Combine(folder, $"cell{number}.csx"));
                    Console.SetOut(stdout);
                    try
                    {
                        state = state is null
                            ? CSharpScript.RunAsync(source.Code, cellOptions, globals, typeof(NotebookGlobals)).GetAwaiter().GetResult()
                            : state.ContinueWithAsync(source.Code, cellOptions).GetAwaiter().GetResult();
                    }
                    finally { Console.SetOut(originalOut); }
                    if (state.Exception is { } thrown) throw thrown;
                    FlushStream(outputs, stdout);
                    if (source.Timed) outputs.Add(Stream($"Wall time: {clock.Elapsed.TotalMilliseconds:F1}ms\n"));
                    if (state.ReturnValue is { } result)
                        outputs.Add(new JsonObject { ["output_type"] = "execute_result", ["execution_count"] = executionCount, ["data"] = Bundle(result, ref plotlyShown), ["metadata"] = new JsonObject() });
                }
                catch (Exception e) when (e is not NotebookException)
                {
                    FlushStream(outputs, stdout);
                    var (line, message) = Describe(e, globals.__line);
                    outputs.Add(new JsonObject
                    {
                        ["output_type"] = "error", ["ename"] = e.GetType().Name, ["evalue"] = message,
                        ["traceback"] = new JsonArray(((e is CompilationErrorException ? message : e.ToString()).Split('\n')).Select(l => (JsonNode)JsonValue.Create(l)!).ToArray()),
                    });
                    Stamp(cell, started, clock);
                    doc.Save(outputPath);
                    throw new NotebookException($"{where} (line {line}): {message}", e);
                }
                catch (NotebookException e)
                {
                    outputs.Add(new JsonObject { ["output_type"] = "error", ["ename"] = nameof(NotebookException), ["evalue"] = e.Message, ["traceback"] = new JsonArray(JsonValue.Create(e.Message)) });
                    Stamp(cell, started, clock);
                    doc.Save(outputPath);
                    throw;
                }
                finally { globals.AddDisplay = null; }
                Stamp(cell, started, clock);
                times.Add((number, clock.Elapsed.TotalSeconds));
                log?.Invoke($"  cell {number,2}: {clock.Elapsed.TotalSeconds,7:F2} s");
            }
        }
        finally { Directory.SetCurrentDirectory(previousDir); }
        ((JsonObject)doc.Root["metadata"]!)["stag"] = new JsonObject
        {
            ["executed"] = DateTimeOffset.UtcNow.ToString("o"), ["seconds"] = Math.Round(total.Elapsed.TotalSeconds, 3),
            ["parameters"] = new JsonObject((parameters ?? new Dictionary<string, string>()).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))),
        };
        doc.Save(outputPath);
        return new NotebookRun(notebookPath, outputPath, times, total.Elapsed.TotalSeconds);
    }

    // plotly.js goes into the first chart output only; later charts in the same notebook reuse it.
    static JsonObject Bundle(object? value, ref bool plotlyShown)
    {
        if (value is Plotly.NET.GenericChart chart)
        {
            var bundle = new JsonObject
            {
                ["text/html"] = Reporting.FigureWriter.ChartHtml(chart, standalone: false, includePlotlyJs: !plotlyShown),
                ["text/plain"] = "Plotly.NET chart",
            };
            plotlyShown = true;
            if (Reporting.FigureWriter.RenderPng(chart) is byte[] png) bundle["image/png"] = Convert.ToBase64String(png);
            return bundle;
        }
        return OutputFormatter.MimeBundle(value);
    }

    static JsonObject Stream(string text) => new() { ["output_type"] = "stream", ["name"] = "stdout", ["text"] = text };

    static void FlushStream(JsonArray outputs, StringWriter stdout)
    {
        var text = stdout.ToString();
        if (text.Length == 0) return;
        stdout.GetStringBuilder().Clear();
        outputs.Add(Stream(text));
    }

    static void Stamp(JsonObject cell, DateTimeOffset started, Stopwatch clock)
    {
        var meta = cell["metadata"] as JsonObject ?? new JsonObject();
        cell["metadata"] = meta;
        meta["execution"] = new JsonObject
        {
            ["iopub.execute_input"] = started.ToString("o"),
            ["shell.execute_reply"] = started.Add(clock.Elapsed).ToString("o"),
        };
        meta["stag"] = new JsonObject { ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 3) };   // nbformat wants strings under "execution"
    }

    /// <summary>The line within the cell and a one-line message: of the first compile error, or of the statement that threw.</summary>
    static (string Line, string Message) Describe(Exception e, int statementLine)
    {
        if (e is CompilationErrorException c)
        {
            var d = c.Diagnostics.First(x => x.Severity == DiagnosticSeverity.Error);
            var span = d.Location.GetLineSpan();
            return ((span.StartLinePosition.Line + 1).ToString(), $"{d.Id}: {d.GetMessage()}");
        }
        var inner = e is TargetInvocationException { InnerException: { } ie } ? ie : e;
        return (statementLine > 0 ? statementLine.ToString() : "?", $"{inner.GetType().Name}: {inner.Message}");
    }
}
