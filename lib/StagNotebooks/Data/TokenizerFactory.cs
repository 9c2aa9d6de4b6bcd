using Microsoft.ML.Tokenizers;

namespace StagNotebooks.Data;

/// <summary>A tokenizer with what the data pipeline needs to know about it.</summary>
public sealed record TokenizerInfo(string Name, Tokenizer Tokenizer, int VocabSize, int EndOfText);

/// <summary>
/// Every tokenizer goes through Microsoft.ML.Tokenizers. Names: "cl100k_base", "o200k_base" (tiktoken, from their
/// data packages), "bpe:&lt;dir&gt;" (byte-level BPE from vocab.json + merges.txt), "sp:&lt;file.model&gt;"
/// (SentencePiece, as the paper's 256K vocabulary), and "brown-bpe" (the bundled 4096-token BPE trained on the
/// bundled train split, data/tokenizer).
/// </summary>
public static class TokenizerFactory
{
    public static readonly IReadOnlyList<string> BuiltIn = new[] { "brown-bpe", "cl100k_base", "o200k_base" };
    static readonly Dictionary<string, TokenizerInfo> Cache = new();

    public static TokenizerInfo Create(string name)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(name, out var cached)) return cached;
            var info = CreateUncached(name);
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
        if (name == "brown-bpe") return Bpe(name, RepoPaths.Data("tokenizer"));
        if (name.StartsWith("bpe:", StringComparison.Ordinal)) return Bpe(name, name[4..]);
        if (name.StartsWith("sp:", StringComparison.Ordinal))
        {
            var path = name[3..];
            if (!File.Exists(path)) throw new FileNotFoundException($"tokenizer {name}: {path}: no such file");
            using var s = File.OpenRead(path);
            var sp = LlamaTokenizer.Create(s);
            return new TokenizerInfo(name, sp, sp.Vocabulary.Count, sp.EndOfSentenceId);
        }
        throw new ArgumentException($"unknown tokenizer '{name}'; use brown-bpe, cl100k_base, o200k_base, bpe:<dir with vocab.json and merges.txt> or sp:<file.model>");
    }

    static TokenizerInfo Bpe(string name, string folder)
    {
        string vocab = Path.Combine(folder, "vocab.json"), merges = Path.Combine(folder, "merges.txt");
        foreach (var f in new[] { vocab, merges })
            if (!File.Exists(f)) throw new FileNotFoundException($"tokenizer {name}: {f}: no such file" + (name == "brown-bpe" ? " (rebuild it with `stag data train-bpe`)" : ""));
        using var vs = File.OpenRead(vocab);
        using var ms = File.OpenRead(merges);
        var t = CodeGenTokenizer.Create(vs, ms, addPrefixSpace: false, addBeginOfSentence: false, addEndOfSentence: false);
        if (!t.Vocabulary.TryGetValue(BpeTrainer.EndOfText, out int eot))
            throw new InvalidDataException($"{vocab}: no {BpeTrainer.EndOfText} entry (the end-of-text token separates documents)");
        return new TokenizerInfo(name, t, t.Vocabulary.Count, eot);
    }
}
