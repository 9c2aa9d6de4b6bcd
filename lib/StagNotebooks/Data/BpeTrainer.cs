using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using StagNotebooks.IO;

namespace StagNotebooks.Data;

/// <summary>
/// A small byte-level BPE trainer in the GPT-2 manner (Microsoft.ML.Tokenizers 2.0.1 has none): text is split by
/// GPT-2's pre-tokenisation pattern, each piece is spelled in GPT-2's byte-to-unicode alphabet, and the most
/// frequent adjacent pair is merged until the vocabulary is full. Writes vocab.json + merges.txt, which
/// Microsoft.ML.Tokenizers' <c>BpeTokenizer</c> (byte-level, GPT-2 pre-tokenizer) loads.
/// </summary>
public sealed class BpeTrainer
{
    public const string EndOfText = "<|endoftext|>";
    /// <summary>GPT-2's pre-tokenisation pattern (contractions, letters, digits, other, whitespace).</summary>
    public static readonly Regex PreTokenizer = new(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.Compiled);

    /// <summary>GPT-2's map from bytes to printable characters (so every byte is a one-character token).</summary>
    public static readonly char[] ByteToChar = BuildByteMap();

    static char[] BuildByteMap()
    {
        var printable = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range('¡', '¬' - '¡' + 1)).Concat(Enumerable.Range('®', 'ÿ' - '®' + 1)).ToHashSet();
        var map = new char[256];
        int extra = 0;
        for (int b = 0; b < 256; b++) map[b] = printable.Contains(b) ? (char)b : (char)(256 + extra++);
        return map;
    }

    public static string Spell(string piece) => new(Encoding.UTF8.GetBytes(piece).Select(b => ByteToChar[b]).ToArray());

    public IReadOnlyList<(string Left, string Right)> Merges { get; private set; } = Array.Empty<(string, string)>();
    public IReadOnlyDictionary<string, int> Vocab { get; private set; } = new Dictionary<string, int>();

    /// <summary>Learns merges until the vocabulary (256 bytes + merges + end-of-text) reaches <paramref name="vocabSize"/>.</summary>
    public BpeTrainer Train(IEnumerable<string> texts, int vocabSize)
    {
        if (vocabSize < 258) throw new ArgumentException($"vocabulary size {vocabSize} is below 258 (256 bytes, one merge, end-of-text)");
        var words = WordCounts(texts).Select(kv => (Symbols: kv.Key.Select(c => c.ToString()).ToList(), Count: kv.Value)).ToList();

        // Pair counts and, for each pair, the words it occurs in: a merge only revisits those words.
        var pairCounts = new Dictionary<(string, string), long>();
        var where = new Dictionary<(string, string), HashSet<int>>();
        void Count(int wi, int sign)
        {
            var (s, c) = words[wi];
            for (int i = 0; i + 1 < s.Count; i++)
            {
                var p = (s[i], s[i + 1]);
                long n = pairCounts.GetValueOrDefault(p) + sign * c;
                if (n == 0) pairCounts.Remove(p); else pairCounts[p] = n;   // keeps the per-merge scan short
                if (sign > 0) (where.TryGetValue(p, out var set) ? set : where[p] = new HashSet<int>()).Add(wi);
            }
        }
        for (int wi = 0; wi < words.Count; wi++) Count(wi, +1);

        var merges = new List<(string, string)>();
        int target = vocabSize - 256 - 1;
        while (merges.Count < target)
        {
            var (best, bestCount) = MostFrequent(pairCounts);
            if (bestCount <= 1) break;   // nothing left worth merging
            merges.Add(best);
            string joined = best.Item1 + best.Item2;
            foreach (var wi in where[best].ToList())
            {
                Count(wi, -1);
                var s = words[wi].Symbols;
                for (int i = 0; i + 1 < s.Count; i++)
                    if (s[i] == best.Item1 && s[i + 1] == best.Item2) { s[i] = joined; s.RemoveAt(i + 1); }
                Count(wi, +1);
            }
            pairCounts.Remove(best);
            where.Remove(best);
        }

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var ch in ByteToChar) vocab[ch.ToString()] = vocab.Count;
        foreach (var (l, r) in merges) vocab.TryAdd(l + r, vocab.Count);
        vocab[EndOfText] = vocab.Count;
        Merges = merges; Vocab = vocab;
        return this;
    }

    /// <summary>Word frequencies over pre-tokenised pieces, each spelled in the byte alphabet.</summary>
    static Dictionary<string, long> WordCounts(IEnumerable<string> texts)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var text in texts)
            foreach (Match m in PreTokenizer.Matches(text))
            {
                var w = Spell(m.Value);
                counts[w] = counts.GetValueOrDefault(w) + 1;
            }
        return counts;
    }

    /// <summary>The most frequent pair; ties broken by the pair itself so training is deterministic.</summary>
    static ((string, string) Pair, long Count) MostFrequent(Dictionary<(string, string), long> pairCounts)
    {
        (string, string) best = default; long bestCount = 0;
        foreach (var (p, c) in pairCounts)
            if (c > bestCount || (c == bestCount && c > 0 && string.CompareOrdinal(p.Item1 + "\u0000" + p.Item2, best.Item1 + "\u0000" + best.Item2) < 0))
            { best = p; bestCount = c; }
        return (best, bestCount);
    }

    /// <summary>Writes vocab.json and merges.txt (GPT-2 layout) into <paramref name="folder"/>, atomically.</summary>
    public void Save(string folder)
    {
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(Path.Combine(folder, "vocab.json"),
            JsonSerializer.Serialize(Vocab.OrderBy(kv => kv.Value).ToDictionary(kv => kv.Key, kv => kv.Value),
                new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        AtomicFile.WriteAllText(Path.Combine(folder, "merges.txt"), "#version: 0.2\n" + string.Concat(Merges.Select(m => $"{m.Left} {m.Right}\n")));
    }

    /// <summary>Encodes with the learned merges by their rank (the reference the loaded tokenizer must match).</summary>
    public static List<int> Encode(string text, IReadOnlyList<(string Left, string Right)> merges, IReadOnlyDictionary<string, int> vocab)
    {
        var rank = merges.Select((m, i) => (m, i)).ToDictionary(x => x.m, x => x.i);
        var ids = new List<int>();
        foreach (Match m in PreTokenizer.Matches(text))
        {
            var s = Spell(m.Value).Select(c => c.ToString()).ToList();
            while (s.Count > 1)
            {
                int bestAt = -1, bestRank = int.MaxValue;
                for (int i = 0; i + 1 < s.Count; i++)
                    if (rank.TryGetValue((s[i], s[i + 1]), out var r) && r < bestRank) { bestRank = r; bestAt = i; }
                if (bestAt < 0) break;
                s[bestAt] += s[bestAt + 1]; s.RemoveAt(bestAt + 1);
            }
            ids.AddRange(s.Select(t => vocab[t]));
        }
        return ids;
    }
}
