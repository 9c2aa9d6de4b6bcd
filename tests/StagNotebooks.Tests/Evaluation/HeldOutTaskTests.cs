using StagNotebooks.Evaluation;

namespace StagNotebooks.Tests.Evaluation;

public class HeldOutTaskTests
{
    static readonly string[] Subjects = { "The farmer", "Mr. Brown", "A young teacher", "Her brother", "The old captain", "Our neighbour" };
    static readonly string[] Verbs = { "painted", "carried", "watched", "repaired", "forgot", "described" };
    static readonly string[] Objects = { "the wooden fence", "a heavy basket", "the distant river", "an old engine", "the quiet garden", "a broken window" };
    static readonly string[] Endings = { ".", "!", "?", ".''", "." };

    /// <summary>Documents of generated sentences (with an abbreviation, Brown-style quotes and ? / ! endings).</summary>
    static List<string> Documents(int count = 12, int sentences = 14)
    {
        var rng = new Random(42);
        return Enumerable.Range(0, count).Select(d => string.Join(d % 2 == 0 ? " " : "\n  ", Enumerable.Range(0, sentences).Select(_ =>
            $"{Subjects[rng.Next(Subjects.Length)]} of doc{d} {Verbs[rng.Next(Verbs.Length)]} {Objects[rng.Next(Objects.Length)]}{Endings[rng.Next(Endings.Length)]}"))).ToList();
    }

    static string DocTag(string sentence) => System.Text.RegularExpressions.Regex.Match(sentence, @"of (doc\d+)").Groups[1].Value;

    static string Normalised(string doc) => string.Join(" ", doc.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    [Fact]
    public void Sentences_split_after_end_punctuation_but_not_after_abbreviations()
    {
        Assert.Equal(new[] { "Mr. Brown left .", "Did he?", "`` Yes . ''", "J. Smith stayed" },
            HeldOutTasks.Sentences("Mr. Brown left .  Did he? `` Yes . ''\nJ. Smith stayed"));
    }

    [Fact]
    public void Building_is_deterministic_for_a_seed()
    {
        using var a = new TestPaths.TempDir();
        using var b = new TestPaths.TempDir();
        using var c = new TestPaths.TempDir();
        var options = new HeldOutTaskOptions { Seed = 3, MaxExamples = 10 };
        var pathsA = HeldOutTasks.Build(Documents(), options).Write(a.Path);
        var pathsB = HeldOutTasks.Build(Documents(), options).Write(b.Path);
        var pathsC = HeldOutTasks.Build(Documents(), options with { Seed = 4 }).Write(c.Path);
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(10, File.ReadAllLines(pathsA[i]).Length);
            Assert.Equal(File.ReadAllText(pathsA[i]), File.ReadAllText(pathsB[i]));
            Assert.NotEqual(File.ReadAllText(pathsA[i]), File.ReadAllText(pathsC[i]));
        }
    }

    [Fact]
    public void Each_cloze_answer_is_the_passage_last_content_word()
    {
        var docs = Documents();
        using var dir = new TestPaths.TempDir();
        var set = HeldOutTasks.Build(docs, new HeldOutTaskOptions { MaxExamples = 20 });
        set.Write(dir.Path);
        var task = TaskReaders.Read(dir.File(HeldOutTaskSet.ClozeFile));
        Assert.Equal(TaskFormat.Lambada, task.Format);
        Assert.Equal(20, task.Examples.Count);
        foreach (var (ex, text) in task.Examples.Zip(set.Cloze))
        {
            var lastWord = text.Split(' ')[^1];
            var choice = Assert.Single(ex.Choices);
            Assert.Equal(" " + lastWord, choice.Continuation);
            Assert.Equal(text, choice.Context + choice.Continuation);
            Assert.True(lastWord.Length >= 3 && lastWord.All(char.IsAsciiLetter), $"'{lastWord}' is not a word of ≥ 3 letters");
            Assert.True(HeldOutTasks.IsContentWord(lastWord));
            Assert.Contains(docs.Select(Normalised), d => d.Contains(text));   // a real passage, cut after its last word
        }
        Assert.False(HeldOutTasks.IsContentWord("the"));
        Assert.Null(HeldOutTasks.ClozePassage(new[] { "It was there." }));    // "there" is a function word
        Assert.Equal("We saw the river", HeldOutTasks.ClozePassage(new[] { "We saw the river .", "''" }));
    }

    [Fact]
    public void Each_continuation_item_has_the_true_next_sentence_among_distractors_from_other_documents()
    {
        var docs = Documents();
        using var dir = new TestPaths.TempDir();
        var set = HeldOutTasks.Build(docs, new HeldOutTaskOptions { MaxExamples = 15 });
        set.Write(dir.Path);
        var task = TaskReaders.Read(dir.File(HeldOutTaskSet.ContinuationFile));
        Assert.Equal(TaskFormat.HellaSwag, task.Format);
        Assert.Equal(15, task.Examples.Count);
        Assert.True(set.Continuation.Select(c => c.Label).Distinct().Count() > 1, "the true ending's position should vary");
        foreach (var item in set.Continuation)
        {
            Assert.Equal(HeldOutTasks.Choices, item.Endings.Count);
            Assert.Equal(HeldOutTasks.Choices, item.Endings.Distinct().Count());
            Assert.Contains(docs.Select(Normalised), d => d.Contains(item.Context + " " + item.Endings[item.Label]));
            // Every generated sentence names its document ("of docN"): distractors come from other documents.
            string home = DocTag(item.Context);
            Assert.Equal(home, DocTag(item.Endings[item.Label]));
            Assert.All(item.Endings.Where((_, j) => j != item.Label), e => Assert.NotEqual(home, DocTag(e)));
        }
    }
}
