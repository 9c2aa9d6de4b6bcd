using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using StagNotebooks.IO;

namespace StagNotebooks.Evaluation;

public sealed record HeldOutTaskOptions
{
    public int Seed { get; init; } = 1234;
    /// <summary>Sentences in a cloze passage, and in the context of a continuation item.</summary>
    public int PassageSentences { get; init; } = 3;
    /// <summary>Items kept per task (drawn, seeded, from every candidate passage).</summary>
    public int MaxExamples { get; init; } = 1000;
    /// <summary>Sentences outside [MinWords, MaxWords] are not used as endings or distractors.</summary>
    public int MinWords { get; init; } = 4;
    public int MaxWords { get; init; } = 50;
}

/// <summary>A choose-the-real-continuation item: <see cref="Endings"/>[<see cref="Label"/>] follows <see cref="Context"/> in its document.</summary>
public sealed record ContinuationItem(string Context, IReadOnlyList<string> Endings, int Label);

/// <summary>The two held-out tasks: final-word cloze passages (LAMBADA layout) and continuation items (HellaSwag layout).</summary>
public sealed record HeldOutTaskSet(IReadOnlyList<string> Cloze, IReadOnlyList<ContinuationItem> Continuation)
{
    public const string ClozeFile = "heldout_cloze.jsonl", ContinuationFile = "heldout_continuation.jsonl";
    static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes <see cref="ClozeFile"/> ({"text"}) and <see cref="ContinuationFile"/> ({"ctx", "endings", "label"}); returns their paths.</summary>
    public IReadOnlyList<string> Write(string folder)
    {
        Directory.CreateDirectory(folder);
        var cloze = Path.Combine(folder, ClozeFile);
        var cont = Path.Combine(folder, ContinuationFile);
        AtomicFile.Write(cloze, tmp => File.WriteAllLines(tmp, Cloze.Select(t => JsonSerializer.Serialize(new { text = t }, Json))));
        AtomicFile.Write(cont, tmp => File.WriteAllLines(tmp, Continuation.Select(c =>
            JsonSerializer.Serialize(new { ctx = c.Context, endings = c.Endings, label = c.Label }, Json))));
        return new[] { cloze, cont };
    }
}

/// <summary>
/// Builds evaluation tasks from held-out documents (the test split), so a model trained on the bundled corpus
/// has tasks it has never seen: (a) LAMBADA-style final-word cloze — a passage of a few sentences ending in a
/// content word of at least 3 letters; (b) choose the real next sentence among it and 3 sentences drawn from
/// other documents. Deterministic for a seed.
/// </summary>
public static class HeldOutTasks
{
    public const int Choices = 4;

    public static HeldOutTaskSet Build(IEnumerable<string> documents, HeldOutTaskOptions? options = null)
    {
        var o = options ?? new HeldOutTaskOptions();
        var docs = documents.Select(Sentences).Where(s => s.Count > 0).ToList();
        bool Usable(string s) { int w = WordCount(s); return w >= o.MinWords && w <= o.MaxWords; }

        var cloze = new List<string>();
        var contexts = new List<(int Doc, string Context, string Next)>();
        for (int d = 0; d < docs.Count; d++)
        {
            var s = docs[d];
            // Non-overlapping passages, so no item's answer is another item's context.
            for (int i = 0; i + o.PassageSentences <= s.Count; i += o.PassageSentences)
                if (ClozePassage(s.Skip(i).Take(o.PassageSentences)) is { } passage) cloze.Add(passage);
            for (int i = 0; i + o.PassageSentences < s.Count; i += o.PassageSentences + 1)
                if (Usable(s[i + o.PassageSentences]))
                    contexts.Add((d, string.Join(" ", s.Skip(i).Take(o.PassageSentences)), s[i + o.PassageSentences]));
        }

        var rng = new Random(o.Seed);
        var pool = docs.SelectMany((s, d) => s.Where(Usable).Select(x => (Doc: d, Sentence: x))).ToArray();
        var clozeDrawn = Draw(cloze, o.MaxExamples, rng);
        var items = new List<ContinuationItem>();
        foreach (var (doc, context, next) in Draw(contexts, o.MaxExamples, rng))
        {
            var distractors = new List<string>();
            // Drawn from other documents; a pool this small gives up rather than loop forever.
            for (int tries = 0; distractors.Count < Choices - 1 && tries < 100 * Choices; tries++)
            {
                var (d, x) = pool[rng.Next(pool.Length)];
                if (d != doc && x != next && !distractors.Contains(x)) distractors.Add(x);
            }
            if (distractors.Count < Choices - 1) continue;
            int label = rng.Next(Choices);
            distractors.Insert(label, next);
            items.Add(new ContinuationItem(context, distractors, label));
        }
        return new HeldOutTaskSet(clozeDrawn, items);
    }

    /// <summary>A seeded draw of at most <paramref name="max"/> items, kept in corpus order.</summary>
    static List<T> Draw<T>(List<T> items, int max, Random rng)
    {
        var order = Enumerable.Range(0, items.Count).ToArray();
        rng.Shuffle(order);
        return order.Take(max).Order().Select(i => items[i]).ToList();
    }

    /// <summary>The passage with its final punctuation removed, when it ends in a content word of ≥ 3 letters; else null.</summary>
    public static string? ClozePassage(IEnumerable<string> sentences)
    {
        var text = string.Join(" ", sentences);
        var words = text.Split(' ').ToList();
        while (words.Count > 0 && !words[^1].Any(char.IsLetterOrDigit)) words.RemoveAt(words.Count - 1);   // ". ''" tokens
        if (words.Count < 2) return null;
        var last = words[^1].TrimEnd(ClosingPunctuation);
        if (!IsContentWord(last)) return null;
        words[^1] = last;
        return string.Join(" ", words);
    }

    public static bool IsContentWord(string word) =>
        word.Length >= 3 && word.All(c => c is >= 'a' and <= 'z' or >= 'A' and <= 'Z') && !StopWords.Contains(word.ToLowerInvariant());

    static readonly char[] ClosingPunctuation = ".,;:!?\"'`)]}’”".ToCharArray();

    /// <summary>Sentences of a document, whitespace collapsed: a sentence ends after . ! or ? (and closing quotes), not after a known abbreviation or an initial.</summary>
    public static List<string> Sentences(string document)
    {
        var words = Regex.Split(document.Trim(), @"\s+").Where(w => w.Length > 0).ToArray();
        var sentences = new List<string>();
        var current = new List<string>();
        for (int i = 0; i < words.Length; i++)
        {
            current.Add(words[i]);
            var core = words[i].TrimEnd('"', '\'', '’', '”', ')', '`');
            bool ends = core.Length > 0 && (core[^1] is '.' or '!' or '?') && !IsAbbreviation(core);
            if (!ends) continue;
            while (i + 1 < words.Length && !words[i + 1].Any(char.IsLetterOrDigit) && !words[i + 1].StartsWith('`')) current.Add(words[++i]);
            sentences.Add(string.Join(" ", current));
            current.Clear();
        }
        if (current.Count > 0) sentences.Add(string.Join(" ", current));
        return sentences;
    }

    static bool IsAbbreviation(string w) =>
        (w.Length == 2 && char.IsUpper(w[0])) || Abbreviations.Contains(w.ToLowerInvariant());

    static int WordCount(string s) => s.Split(' ').Count(w => w.Any(char.IsLetterOrDigit));

    static readonly HashSet<string> Abbreviations = new(StringComparer.Ordinal)
    {
        "mr.", "mrs.", "ms.", "dr.", "st.", "jr.", "sr.", "prof.", "gen.", "gov.", "sen.", "rep.", "rev.", "col.", "lt.", "capt.", "co.", "inc.", "ltd.", "vs.", "etc.", "e.g.", "i.e.", "no.", "mt.", "ft.", "u.s.",
    };

    static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "had", "her", "was", "one", "our", "out", "has", "him", "his", "how",
        "its", "may", "new", "now", "old", "see", "two", "who", "did", "get", "she", "too", "use", "that", "with", "have", "this", "will", "your",
        "from", "they", "been", "were", "said", "each", "which", "their", "there", "what", "about", "would", "these", "other", "into", "than",
        "them", "then", "some", "could", "when", "where", "while", "also", "just", "only", "very", "more", "most", "such", "over", "upon",
        "should", "because", "those", "being", "does", "done", "here", "why", "yet", "nor", "off", "own", "same", "both", "few", "many",
        "much", "must", "shall", "might", "ever", "even", "again", "once", "after", "before", "under", "above", "below", "between", "through",
        "during", "without", "within", "against", "among", "himself", "herself", "itself", "themselves", "myself", "yourself", "ourselves",
        "whom", "whose", "either", "neither", "though", "although", "unless", "until", "since", "whether", "well", "like", "let",
    };
}
