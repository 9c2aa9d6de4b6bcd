using System.Text.Json;
using System.Text.RegularExpressions;

namespace StagNotebooks.Evaluation;

/// <summary>A task file line that cannot be read; the message starts with "file:line: ".</summary>
public sealed class TaskFormatException(string path, int line, string why) : Exception($"{path}:{line}: {why}")
{
    public string Path { get; } = path;
    public int Line { get; } = line;
}

/// <summary>
/// Reads task files in the standard jsonl layouts into <see cref="EvalTask"/>s, building prompts the way
/// lm-evaluation-harness does (same question templates, " " between context and continuation).
/// </summary>
public static class TaskReaders
{
    /// <summary>Reads a jsonl task file; the layout is detected from the first line's fields unless given.</summary>
    public static EvalTask Read(string path, TaskFormat? format = null, string? name = null)
    {
        name ??= System.IO.Path.GetFileName(path).Split('.')[0];
        var examples = new List<TaskExample>();
        int lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                format ??= Detect(doc.RootElement);
                examples.Add(Parse(format.Value, doc.RootElement));
            }
            catch (JsonException e) { throw new TaskFormatException(path, lineNo, $"not valid JSON ({e.Message})"); }
            catch (FormatException e) { throw new TaskFormatException(path, lineNo, e.Message); }
        }
        if (format is null) throw new TaskFormatException(path, lineNo, "no examples in the file");
        return new EvalTask(name, format.Value, examples);
    }

    /// <summary>The layout a line is in, from its fields.</summary>
    public static TaskFormat Detect(JsonElement line)
    {
        if (line.ValueKind != JsonValueKind.Object) throw new FormatException("expected a JSON object");
        bool Has(string f) => line.TryGetProperty(f, out _);
        if (Has("endings")) return TaskFormat.HellaSwag;
        if (Has("answerKey")) return TaskFormat.Arc;
        if (Has("sol1")) return TaskFormat.Piqa;
        if (Has("option1")) return TaskFormat.WinoGrande;
        if (Has("text")) return TaskFormat.Lambada;
        throw new FormatException("cannot tell the task layout from the fields: expected HellaSwag (endings), ARC (answerKey), PIQA (sol1), WinoGrande (option1) or LAMBADA (text)");
    }

    /// <summary>Parses one line of a layout; a missing or mistyped field throws <see cref="FormatException"/> naming it.</summary>
    public static TaskExample ParseLine(TaskFormat format, string jsonLine)
    {
        using var doc = JsonDocument.Parse(jsonLine);
        return Parse(format, doc.RootElement);
    }

    static TaskExample Parse(TaskFormat format, JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new FormatException("expected a JSON object");
        return format switch
        {
            TaskFormat.HellaSwag => HellaSwag(e),
            TaskFormat.Arc => Arc(e),
            TaskFormat.Piqa => Piqa(e),
            TaskFormat.WinoGrande => WinoGrande(e),
            _ => Lambada(e),
        };
    }

    // ctx_a + " " + ctx_b.capitalize() (or ctx), with the activity label in front when present; endings cleaned.
    static TaskExample HellaSwag(JsonElement e)
    {
        string ctx = e.TryGetProperty("ctx_a", out _) ? Str(e, "ctx_a") + " " + PythonCapitalize(Str(e, "ctx_b")) : Str(e, "ctx");
        if (e.TryGetProperty("activity_label", out _)) ctx = Str(e, "activity_label") + ": " + ctx;
        var query = HellaSwagPreprocess(ctx);
        var endings = StrArray(e, "endings").Select(HellaSwagPreprocess).ToList();
        return Choices(query, endings, Index(e, "label", endings.Count));
    }

    static TaskExample Arc(JsonElement e)
    {
        var choices = Field(e, "choices", JsonValueKind.Object);
        var texts = StrArray(choices, "text", "choices.text");
        var labels = StrArray(choices, "label", "choices.label");
        if (labels.Length != texts.Length) throw new FormatException($"choices.label has {labels.Length} entries but choices.text has {texts.Length}");
        var key = Str(e, "answerKey");
        int gold = Array.IndexOf(labels, key);
        if (gold < 0) throw new FormatException($"answerKey '{key}' is not one of the choice labels ({string.Join(", ", labels)})");
        return Choices($"Question: {Str(e, "question")}\nAnswer:", texts, gold);
    }

    static TaskExample Piqa(JsonElement e) =>
        Choices($"Question: {Str(e, "goal")}\nAnswer:", new[] { Str(e, "sol1"), Str(e, "sol2") }, Index(e, "label", 2));

    // Partial scoring: each option fills the blank in the context; the shared continuation is the text after it.
    static TaskExample WinoGrande(JsonElement e)
    {
        var sentence = Str(e, "sentence");
        int blank = sentence.IndexOf('_');
        if (blank < 0) throw new FormatException("field 'sentence' has no blank '_'");
        var continuation = " " + sentence[(blank + 1)..].Trim();
        var answer = Str(e, "answer");
        int gold = answer switch { "1" => 0, "2" => 1, _ => throw new FormatException($"field 'answer' must be \"1\" or \"2\" (got \"{answer}\")") };
        var options = new[] { Str(e, "option1"), Str(e, "option2") };
        return new TaskExample(options.Select(o => new TaskChoice(sentence[..blank] + o, continuation)).ToList(), gold);
    }

    // Context = the text up to its last space; continuation = " " + the last word.
    static TaskExample Lambada(JsonElement e)
    {
        var text = Str(e, "text");
        int space = text.LastIndexOf(' ');
        if (space <= 0 || space == text.Length - 1) throw new FormatException("field 'text' needs a context and a last word separated by a space");
        return new TaskExample(new[] { new TaskChoice(text[..space], text[space..]) }, 0);
    }

    static TaskExample Choices(string context, IEnumerable<string> continuations, int gold) =>
        new(continuations.Select(c => new TaskChoice(context, " " + c)).ToList(), gold);

    static JsonElement Field(JsonElement e, string name, JsonValueKind kind, string? path = null)
    {
        if (!e.TryGetProperty(name, out var v)) throw new FormatException($"missing field '{path ?? name}'");
        if (v.ValueKind != kind) throw new FormatException($"field '{path ?? name}' must be {Article(kind)} (got {v.ValueKind.ToString().ToLowerInvariant()})");
        return v;
    }

    static string Article(JsonValueKind k) => k switch { JsonValueKind.Array => "an array", JsonValueKind.Object => "an object", JsonValueKind.Number => "a number", _ => "a string" };

    static string Str(JsonElement e, string name) => Field(e, name, JsonValueKind.String).GetString()!;

    static string[] StrArray(JsonElement e, string name, string? path = null)
    {
        var items = Field(e, name, JsonValueKind.Array, path).EnumerateArray().ToArray();
        if (items.Any(i => i.ValueKind != JsonValueKind.String)) throw new FormatException($"field '{path ?? name}' must be an array of strings");
        return items.Select(i => i.GetString()!).ToArray();
    }

    // Labels come as numbers or as digit strings ("0") depending on the dump.
    static int Index(JsonElement e, string name, int count)
    {
        if (!e.TryGetProperty(name, out var v)) throw new FormatException($"missing field '{name}'");
        int? i = v.ValueKind switch
        {
            JsonValueKind.Number when v.TryGetInt32(out var n) => n,
            JsonValueKind.String when int.TryParse(v.GetString(), out var n) => n,
            _ => null,
        };
        if (i is not int idx || idx < 0 || idx >= count)
            throw new FormatException($"field '{name}' must be an index in [0, {count}) (got {v.GetRawText()})");
        return idx;
    }

    /// <summary>Python's str.capitalize: first character upper case, the rest lower case.</summary>
    static string PythonCapitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    // The harness's HellaSwag cleaning: WikiHow "[title]" markers become sentence breaks, other [..] tags go.
    static string HellaSwagPreprocess(string text)
    {
        text = text.Trim().Replace(" [title]", ". ");
        text = Regex.Replace(text, @"\[.*?\]", "");
        return text.Replace("  ", " ");
    }
}
