using StagNotebooks.Evaluation;

namespace StagNotebooks.Tests.Evaluation;

public class TaskReaderTests
{
    static void AssertChoices(TaskExample ex, int gold, params (string Context, string Continuation)[] expected)
    {
        Assert.Equal(gold, ex.Gold);
        Assert.Equal(expected.Select(e => new TaskChoice(e.Context, e.Continuation)), ex.Choices);
    }

    [Fact]
    public void HellaSwag_line_joins_the_context_the_harness_way()
    {
        var ex = TaskReaders.ParseLine(TaskFormat.HellaSwag,
            """{"activity_label": "Baking", "ctx_a": "A man opens an oven.", "ctx_b": "he", "ctx": "ignored when ctx_a is there", "endings": ["takes out a cake. [title] Let it cool.", "sings  loudly."], "label": "0"}""");
        AssertChoices(ex, 0,
            ("Baking: A man opens an oven. He", " takes out a cake.. Let it cool."),
            ("Baking: A man opens an oven. He", " sings loudly."));
    }

    [Fact]
    public void HellaSwag_line_with_ctx_only_is_the_held_out_layout()
    {
        var ex = TaskReaders.ParseLine(TaskFormat.HellaSwag, """{"ctx": "It rained.", "endings": ["We stayed in.", "Cats fly."], "label": 1}""");
        AssertChoices(ex, 1, ("It rained.", " We stayed in."), ("It rained.", " Cats fly."));
    }

    [Fact]
    public void Arc_line_finds_the_answer_key_among_the_labels()
    {
        var ex = TaskReaders.ParseLine(TaskFormat.Arc,
            """{"id": "x", "question": "What melts ice?", "choices": {"text": ["heat", "cold", "dark"], "label": ["A", "B", "C"]}, "answerKey": "A"}""");
        AssertChoices(ex, 0, ("Question: What melts ice?\nAnswer:", " heat"), ("Question: What melts ice?\nAnswer:", " cold"), ("Question: What melts ice?\nAnswer:", " dark"));
    }

    [Fact]
    public void Piqa_line_has_two_solutions()
    {
        var ex = TaskReaders.ParseLine(TaskFormat.Piqa, """{"goal": "Dry a towel", "sol1": "hang it up", "sol2": "wet it", "label": 0}""");
        AssertChoices(ex, 0, ("Question: Dry a towel\nAnswer:", " hang it up"), ("Question: Dry a towel\nAnswer:", " wet it"));
    }

    [Fact]
    public void WinoGrande_line_is_partially_scored_options_fill_the_blank()
    {
        var ex = TaskReaders.ParseLine(TaskFormat.WinoGrande,
            """{"sentence": "The cup fell off the table because _ was wobbly.", "option1": "the cup", "option2": "the table", "answer": "2"}""");
        AssertChoices(ex, 1,
            ("The cup fell off the table because the cup", " was wobbly."),
            ("The cup fell off the table because the table", " was wobbly."));
    }

    [Fact]
    public void Lambada_line_splits_off_the_last_word()
    {
        var ex = TaskReaders.ParseLine(TaskFormat.Lambada, """{"text": "She opened the door and saw her brother"}""");
        AssertChoices(ex, 0, ("She opened the door and saw her", " brother"));
    }

    [Fact]
    public void A_file_is_read_with_its_layout_detected_and_named_after_the_file()
    {
        using var dir = new TestPaths.TempDir();
        var path = dir.File("arc_easy.jsonl");
        File.WriteAllText(path, """
            {"question": "Q1?", "choices": {"text": ["a", "b"], "label": ["1", "2"]}, "answerKey": "2"}

            {"question": "Q2?", "choices": {"text": ["c", "d"], "label": ["1", "2"]}, "answerKey": "1"}
            """);
        var task = TaskReaders.Read(path);
        Assert.Equal("arc_easy", task.Name);
        Assert.Equal(TaskFormat.Arc, task.Format);
        Assert.Equal(new[] { 1, 0 }, task.Examples.Select(e => e.Gold));
    }

    [Fact]
    public void A_bad_line_names_the_file_and_the_line()
    {
        using var dir = new TestPaths.TempDir();
        var path = dir.File("piqa.jsonl");
        File.WriteAllLines(path, new[]
        {
            """{"goal": "g", "sol1": "a", "sol2": "b", "label": 1}""",
            """{"goal": "g", "sol1": "a", "label": 1}""",
        });
        var e = Assert.Throws<TaskFormatException>(() => TaskReaders.Read(path));
        Assert.Equal($"{path}:2: missing field 'sol2'", e.Message);
        Assert.Equal(2, e.Line);

        File.WriteAllLines(path, new[] { """{"goal": "g", "sol1": "a", "sol2": "b", "label": 2}""" });
        Assert.Equal($"{path}:1: field 'label' must be an index in [0, 2) (got 2)", Assert.Throws<TaskFormatException>(() => TaskReaders.Read(path)).Message);

        File.WriteAllLines(path, new[] { """{"goal": "g", "sol1": "a", "sol2": "b", "label": 0}""", "", """{"goal": "g", """ });
        Assert.StartsWith($"{path}:3: not valid JSON (", Assert.Throws<TaskFormatException>(() => TaskReaders.Read(path)).Message);
    }
}
