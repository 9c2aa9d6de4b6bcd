using System.Text.Json.Nodes;
using Microsoft.DotNet.Interactive.Events;

namespace StagNotebooks.Notebooks;

/// <summary>
/// The nbformat outputs of one cell, built from the kernel's events as Jupyter's front end builds them: stdout and
/// stderr streams (consecutive writes merged), display_data (an update replaces the output whose id it names; the
/// kernel 1.0.712001 gives <c>display(x).Update(y)</c> another id, so there, as in Jupyter, it changes nothing),
/// execute_result, and error; display bundles as nbformat stores them (<see cref="OutputBundle"/>). Standard output is also echoed to <c>log</c> while the cell runs.
/// </summary>
sealed class CellOutputs(int executionCount, TextWriter? log)
{
    readonly Dictionary<string, JsonObject> _displays = new();
    public JsonArray Json { get; } = new();

    public void Add(KernelEvent e)
    {
        lock (Json)
        {
            switch (e)
            {
                case StandardOutputValueProduced o: Stream("stdout", Text(o)); break;
                case StandardErrorValueProduced o: Stream("stderr", Text(o)); break;
                case DisplayedValueUpdated u when u.ValueId != null && _displays.TryGetValue(u.ValueId, out var shown):
                    shown["data"] = Bundle(u);
                    break;
                case DisplayedValueProduced d:
                    var output = new JsonObject { ["output_type"] = "display_data", ["data"] = Bundle(d), ["metadata"] = new JsonObject() };
                    if (d.ValueId != null) _displays[d.ValueId] = output;
                    Json.Add(output);
                    break;
                case ReturnValueProduced r:
                    Json.Add(new JsonObject { ["output_type"] = "execute_result", ["execution_count"] = executionCount, ["data"] = Bundle(r), ["metadata"] = new JsonObject() });
                    break;
            }
        }
    }

    /// <summary>Adds the error output of a failed cell; returns the kernel's diagnostic in one line.</summary>
    public string Failed(CommandFailed failed)
    {
        var message = (failed.Message ?? failed.Exception?.Message ?? "failed").Trim();
        // The kernel reports a thrown exception as its full ToString(); the first line names it.
        var firstLine = message.Split('\n')[0].Trim();
        var lines = (failed.Exception?.ToString() ?? message).Split('\n').Select(l => (JsonNode?)JsonValue.Create(l.TrimEnd('\r'))).ToArray();
        lock (Json)
            Json.Add(new JsonObject
            {
                ["output_type"] = "error",
                ["ename"] = failed.Exception?.GetType().Name ?? "CompilationError",
                ["evalue"] = firstLine,
                ["traceback"] = new JsonArray(lines),
            });
        return firstLine;
    }

    static string Text(DisplayEvent e) => e.FormattedValues.FirstOrDefault(v => v.MimeType == "text/plain")?.Value ?? e.Value?.ToString() ?? "";

    JsonObject Bundle(DisplayEvent e)
    {
        var data = new JsonObject();
        foreach (var v in e.FormattedValues) data[v.MimeType] = v.Value;
        data = OutputBundle.Normalize(data);
        if (data.Count == 0) data["text/plain"] = e.Value?.ToString() ?? "";
        return data;
    }

    void Stream(string name, string text)
    {
        if (text.Length == 0) return;
        if (name == "stdout") { log?.Write(text); log?.Flush(); }
        if (Json.Count > 0 && Json[^1] is JsonObject last && last["output_type"]?.GetValue<string>() == "stream" && last["name"]?.GetValue<string>() == name)
            last["text"] = last["text"]!.GetValue<string>() + text;
        else
            Json.Add(new JsonObject { ["output_type"] = "stream", ["name"] = name, ["text"] = text });
    }
}
