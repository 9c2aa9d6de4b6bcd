using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using StagNotebooks.IO;

namespace StagNotebooks.Data;

public sealed record SourceFile(string Path, string Sha256, long Bytes);
public sealed record SubsetCounts(long Documents, long Bytes, long Tokens);
/// <param name="Rejects">the file beside <paramref name="File"/> that lists every bad line (null: there were none).</param>
public sealed record SplitManifest(string File, IReadOnlyList<SourceFile> Sources, long Documents, long Bytes, long Tokens, long BadLines,
                                   double BytesPerToken, IReadOnlyDictionary<string, SubsetCounts> Subsets, string? Rejects = null);
public sealed record DatasetManifest(int Version, string Tokenizer, int VocabSize, int EndOfText, int BytesPerTokenId,
                                     IReadOnlyDictionary<string, SplitManifest> Splits);

/// <summary>
/// Packed token datasets: each split's documents tokenized on all cores, each followed by the end-of-text token,
/// written as a <see cref="TokenFile"/>, plus manifest.json (sources with SHA-256, tokenizer, counts per subset,
/// bytes per token). Every bad line of a split's shards is listed in <c>&lt;split&gt;.rejects.jsonl</c> beside its token
/// file (<see cref="RejectsFile"/>); the log names that file and shows the first few bad lines of each kind. In strict
/// mode the first bad line stops the preparation (<see cref="PileFormatException"/>). Preparing again with unchanged
/// sources and tokenizer is a cache hit (not in strict mode when the cached splits had bad lines: they are read again,
/// so the first one is named).
/// </summary>
public sealed class PackedDataset
{
    public const int ManifestVersion = 1;
    public string Folder { get; }
    public DatasetManifest Manifest { get; }
    /// <summary>A short identity of the data (tokenizer and source hashes), for run identities.</summary>
    public string Id { get; }

    PackedDataset(string folder, DatasetManifest manifest)
    {
        Folder = folder; Manifest = manifest;
        // Content, not location: the same shards and tokenizer give the same id on every machine.
        var identity = manifest.Tokenizer + "|" + manifest.VocabSize + "|" + string.Join("|",
            manifest.Splits.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => s.Key + ":" + string.Join(",", s.Value.Sources.Select(f => f.Sha256))));
        Id = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..16].ToLowerInvariant();
    }

    public TokenFile Open(string split) =>
        Manifest.Splits.TryGetValue(split, out var s) ? TokenFile.Open(Path.Combine(Folder, s.File))
            : throw new ArgumentException($"{Folder}: no split '{split}' (have {string.Join(", ", Manifest.Splits.Keys)})");

    public static PackedDataset Load(string folder)
    {
        var path = Path.Combine(folder, "manifest.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file (run `stag data prepare`)");
        try { return new PackedDataset(folder, JsonSerializer.Deserialize<DatasetManifest>(File.ReadAllText(path)) ?? throw new JsonException("empty")); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: {e.Message}"); }
    }

    /// <summary>The bundled Brown corpus packed with a tokenizer, in data/packed/&lt;tokenizer&gt; (built on first use).</summary>
    public static PackedDataset PrepareBundled(string tokenizer = "brown-bpe", Action<string>? log = null) =>
        Prepare(BrownCorpus.Splits.ToDictionary(s => s, s => (IReadOnlyList<string>)new[] { RepoPaths.BrownSplit(s) }),
                tokenizer, RepoPaths.Data("packed", tokenizer.Replace(':', '_').Replace('/', '_')), log: log);

    /// <summary>Tokenizes each split (a list of shards or globs) into <paramref name="folder"/>; a cache hit when nothing changed.</summary>
    public static PackedDataset Prepare(IReadOnlyDictionary<string, IReadOnlyList<string>> splits, string tokenizer, string folder,
                                        bool strict = false, IEnumerable<string>? subsets = null, int? threads = null, Action<string>? log = null)
    {
        var tok = TokenizerFactory.Create(tokenizer);
        var sources = splits.ToDictionary(kv => kv.Key, kv => PileReader.ExpandGlobs(kv.Value).Select(Describe).ToList());
        var manifestPath = Path.Combine(folder, "manifest.json");
        if (File.Exists(manifestPath) && CacheHit(folder, tokenizer, tok, sources, strict) is { } old)
        {
            log?.Invoke($"cache hit: {folder} is up to date ({tokenizer})");
            foreach (var (split, s) in old.Manifest.Splits.Where(s => s.Value.Rejects is not null))
                log?.Invoke($"{split}: {s.BadLines} bad line(s), every one listed in {Path.Combine(folder, s.Rejects!)}");
            return old;
        }
        var manifests = sources.ToDictionary(kv => kv.Key, kv => PackSplit(kv.Key, kv.Value, folder, tok, strict, subsets, threads, log));
        var manifest = new DatasetManifest(ManifestVersion, tokenizer, tok.VocabSize, tok.EndOfText, tok.VocabSize <= 65536 ? 2 : 4, manifests);
        AtomicFile.WriteAllText(manifestPath, JsonSerializer.Serialize(manifest, new JsonSerializerOptions { WriteIndented = true }));
        return new PackedDataset(folder, manifest);
    }

    /// <summary>The packed data in <paramref name="folder"/> when it was made from these sources with this tokenizer (and its files are there); else null.</summary>
    static PackedDataset? CacheHit(string folder, string tokenizer, TokenizerInfo tok, Dictionary<string, List<SourceFile>> sources, bool strict)
    {
        try
        {
            var old = Load(folder);
            bool same = old.Manifest.Version == ManifestVersion && old.Manifest.Tokenizer == tokenizer && old.Manifest.VocabSize == tok.VocabSize
                && old.Manifest.Splits.Count == sources.Count
                && sources.All(kv => old.Manifest.Splits.TryGetValue(kv.Key, out var s) && s.Sources.SequenceEqual(kv.Value)
                                     && File.Exists(Path.Combine(folder, s.File))
                                     && (s.Rejects is null || File.Exists(Path.Combine(folder, s.Rejects))))
                && !(strict && old.Manifest.Splits.Values.Any(s => s.BadLines > 0));
            return same ? old : null;
        }
        catch (InvalidDataException) { return null; }   // a damaged manifest is rebuilt
    }

    /// <summary>Reads, tokenizes and writes one split (&lt;split&gt;.bin, its rejects file when a line was bad); its manifest entry.</summary>
    static SplitManifest PackSplit(string split, List<SourceFile> files, string folder, TokenizerInfo tok, bool strict, IEnumerable<string>? subsets,
                                   int? threads, Action<string>? log)
    {
        var rejectsName = $"{split}.rejects.jsonl";
        using var rejects = new RejectsFile(Path.Combine(folder, rejectsName));
        var reader = new PileReader(files.Select(f => f.Path), strict, subsets, rejects.Add);
        var (tokens, counts) = Tokenize(reader, tok, threads);
        if (reader.Damaged is { } damaged)
            throw new InvalidDataException($"{damaged}: the shard is damaged (records after this point were not read); restore or re-download it");
        var rejectsPath = rejects.Complete();
        var badLines = rejectsPath is null ? "" : $"; every one listed in {rejectsPath}";
        if (tokens.Count == 0)
            throw new InvalidDataException($"split {split}: no documents in {string.Join(", ", files.Select(f => f.Path))} ({(subsets is null ? "" : "after the subset filter; ")}{reader.Summary}{badLines})");
        var file = $"{split}.bin";
        Directory.CreateDirectory(folder);
        TokenFile.Write(Path.Combine(folder, file), tokens, tok.VocabSize, tok.EndOfText);
        long docs = counts.Values.Sum(c => c.Docs), totalBytes = counts.Values.Sum(c => c.Bytes);
        log?.Invoke($"{split}: {docs} documents, {totalBytes:N0} bytes → {tokens.Count:N0} tokens ({(double)totalBytes / Math.Max(1, tokens.Count):F2} bytes/token); {reader.Summary}{badLines}");
        foreach (var line in reader.ExampleLines()) log?.Invoke(line);
        return new SplitManifest(file, files, docs, totalBytes, tokens.Count, reader.BadLineCount, (double)totalBytes / tokens.Count,
            counts.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => new SubsetCounts(kv.Value.Docs, kv.Value.Bytes, kv.Value.Tokens)),
            rejectsPath is null ? null : rejectsName);
    }

    /// <summary>Every record's ids followed by end-of-text, in order (tokenized in parallel), and documents, bytes and tokens per subset.</summary>
    static (List<int> Tokens, Dictionary<string, (long Docs, long Bytes, long Tokens)> Counts) Tokenize(PileReader reader, TokenizerInfo tok, int? threads)
    {
        var counts = new Dictionary<string, (long Docs, long Bytes, long Tokens)>();
        var tokens = new List<int>();
        var encoded = reader.Read()
            .AsParallel().AsOrdered().WithDegreeOfParallelism(threads ?? Environment.ProcessorCount)
            .Select(r => (r.Subset, Bytes: (long)Encoding.UTF8.GetByteCount(r.Text), Ids: Encode(tok, r)));
        try
        {
            foreach (var (subset, bytes, ids) in encoded)
            {
                tokens.AddRange(ids);
                tokens.Add(tok.EndOfText);
                var c = counts.GetValueOrDefault(subset);
                counts[subset] = (c.Docs + 1, c.Bytes + bytes, c.Tokens + ids.Count + 1);
            }
        }
        catch (AggregateException e)
        {
            // PLINQ wraps what the reader (strict mode) or the tokenizer threw: rethrow the error itself, which names the line.
            var inner = e.Flatten().InnerExceptions;
            ExceptionDispatchInfo.Throw(inner.FirstOrDefault(x => x is PileFormatException) ?? inner[0]);
        }
        return (tokens, counts);
    }

    /// <summary>Encodes one document, refusing an id outside the vocabulary by naming the document's file and line.</summary>
    internal static IReadOnlyList<int> Encode(TokenizerInfo tok, PileRecord r)
    {
        var ids = tok.Tokenizer.EncodeToIds(r.Text, considerPreTokenization: true, considerNormalization: true);
        foreach (var id in ids)
            if ((uint)id >= (uint)tok.VocabSize)
                throw new InvalidDataException($"{r.File}, line {r.Line}: tokenizer {tok.Name} gave token id {id}, outside its vocabulary of {tok.VocabSize} (text starts {JsonSerializer.Serialize(r.Text.Length > 40 ? r.Text[..40] : r.Text)})");
        return ids;
    }

    static SourceFile Describe(string path)
    {
        using var fs = File.OpenRead(path);
        return new SourceFile(Path.GetFullPath(path), Convert.ToHexString(SHA256.HashData(fs)).ToLowerInvariant(), fs.Length);
    }
}
