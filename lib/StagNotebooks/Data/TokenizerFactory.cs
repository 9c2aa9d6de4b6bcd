using Microsoft.ML.Tokenizers;
using StagNotebooks.IO;

namespace StagNotebooks.Data;

/// <summary>A tokenizer with what the data pipeline needs to know about it.</summary>
public sealed record TokenizerInfo(string Name, Tokenizer Tokenizer, int VocabSize, int EndOfText);

/// <summary>
/// Every tokenizer goes through Microsoft.ML.Tokenizers. Names: "cl100k_base", "o200k_base" (tiktoken, from their
/// data packages), "bpe:&lt;dir&gt;" (byte-level BPE from vocab.json + merges.txt), "sp:&lt;file.model&gt;"
/// (SentencePiece, as the paper's 256K vocabulary), "brown-bpe" (the bundled 4096-token BPE trained on the
/// bundled train split, data/tokenizer) and "brown-bpe-1k" (the same at 1024 tokens, data/tokenizer-1k: a quarter of
/// the unembedding and softmax, which are most of a small model's CPU step).
/// </summary>
public static class TokenizerFactory
{
    /// <summary>The bundled BPEs: name → folder under data/ and the `stag data train-bpe` arguments that rebuild it.</summary>
    static readonly IReadOnlyDictionary<string, (string Folder, string Rebuild)> BundledBpe = new Dictionary<string, (string, string)>
    {
        ["brown-bpe"] = ("tokenizer", "stag data train-bpe"),
        ["brown-bpe-1k"] = ("tokenizer-1k", "stag data train-bpe --vocab-size 1024 --out data/tokenizer-1k"),
    };

    /// <summary>The names of the bundled BPEs, trained on the bundled train split.</summary>
    public static IReadOnlyList<string> Bundled { get; } = BundledBpe.Keys.ToList();

    public static readonly IReadOnlyList<string> BuiltIn = Bundled.Concat(new[] { "cl100k_base", "o200k_base" }).ToList();
    static readonly Dictionary<string, TokenizerInfo> Cache = new();

    public static TokenizerInfo Create(string name)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(name, out var cached)) return cached;
            var info = CreateUncached(name);
            CheckCoverage(info);
            Cache[name] = info;
            return info;
        }
    }

    static TokenizerInfo CreateUncached(string name)
    {
        if (name is "cl100k_base" or "o200k_base")
        {
            var t = TiktokenTokenizer.CreateForEncoding(name);
            int size = t.SpecialTokens!.Values.Max() + 1;   // tiktoken's special tokens sit above every ordinary id
            return new TokenizerInfo(name, t, size, t.SpecialTokens!["<|endoftext|>"]);
        }
        if (BundledBpe.TryGetValue(name, out var bundled)) return Bpe(name, RepoPaths.Data(bundled.Folder));
        if (name.StartsWith("bpe:", StringComparison.Ordinal)) return Bpe(name, name[4..]);
        if (name.StartsWith("sp:", StringComparison.Ordinal))
        {
            var path = name[3..];
            if (!File.Exists(path)) throw new FileNotFoundException($"tokenizer {name}: {path}: no such file");
            using var s = File.OpenRead(path);
            var sp = LlamaTokenizer.Create(s);
            return new TokenizerInfo(name, sp, sp.Vocabulary.Count, sp.EndOfSentenceId);
        }
        throw new ArgumentException($"unknown tokenizer '{name}'; use {string.Join(", ", BuiltIn)}, bpe:<dir with vocab.json and merges.txt> or sp:<file.model>");
    }

    static TokenizerInfo Bpe(string name, string folder)
    {
        string vocab = Path.Combine(folder, "vocab.json"), merges = Path.Combine(folder, "merges.txt");
        foreach (var f in new[] { vocab, merges })
            if (!File.Exists(f)) throw new FileNotFoundException($"tokenizer {name}: {f}: no such file" + (BundledBpe.TryGetValue(name, out var b) ? $" (rebuild it with `{b.Rebuild}`)" : ""));
        Dictionary<string, int> vocabulary;
        try { vocabulary = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllBytes(vocab)) ?? throw new System.Text.Json.JsonException("empty"); }
        catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{vocab}: not a JSON vocabulary ({e.Message})"); }
        if (!vocabulary.TryGetValue(BpeTrainer.EndOfText, out int eot))
            throw new InvalidDataException($"{vocab}: no {BpeTrainer.EndOfText} entry (the end-of-text token separates documents)");
        // Not CodeGenTokenizer.Create: it adds CodeGen's whitespace-run tokens (ids 50257 and up, e.g. 50286 for two
        // spaces), which a vocabulary of our own does not have. A byte-level BPE with the GPT-2 pre-tokenizer our
        // trainer uses, and the end-of-text token as the only special token, keeps every id inside the vocabulary.
        var special = new Dictionary<string, int> { [BpeTrainer.EndOfText] = eot };
        var t = BpeTokenizer.Create(new BpeOptions(vocabulary)
        {
            Merges = File.ReadLines(merges).Where(l => l.Length > 0 && !l.StartsWith("#version", StringComparison.Ordinal)).ToList(),
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(BpeTrainer.PreTokenizer, special),
            SpecialTokens = special,
        });
        return new TokenizerInfo(name, t, t.Vocabulary.Count, eot);
    }

    /// <summary>
    /// Text every tokenizer must encode inside its vocabulary: runs of spaces, tabs and newlines, emoji, CJK, control
    /// characters, U+FFFD (what invalid UTF-8 bytes become when a file is read) and a lone surrogate.
    /// </summary>
    public static readonly IReadOnlyList<string> CoverageProbes = new[]
    {
        "two  spaces", "        eight", new string(' ', 40), "\t\ttabs\t", "\n\n\n", " \t \n\r\n ", "emoji 🙂👍🏽🧪 and ZWJ 👩‍👩‍👧",
        "汉字かなカナ한국어", "control \u0001\u0007\u001b[0m", "replacement \uFFFD\uFFFD", "lone \uD800 surrogate", "<|endoftext|>x<|endoftext|>",
        "\u00A0nbsp\u2028line\u3000ideographic", "ﬁ ligature, é vs e\u0301",
    };

    /// <summary>Fails when <paramref name="info"/> encodes any probe to an id outside [0, VocabSize).</summary>
    public static void CheckCoverage(TokenizerInfo info)
    {
        foreach (var probe in CoverageProbes)
        {
            var bad = info.Tokenizer.EncodeToIds(probe).Where(id => id < 0 || id >= info.VocabSize).ToList();
            if (bad.Count > 0)
                throw new InvalidDataException($"tokenizer {info.Name}: encodes {System.Text.Json.JsonSerializer.Serialize(probe)} to id(s) {string.Join(", ", bad.Distinct())} outside its vocabulary of {info.VocabSize}");
        }
    }
}
