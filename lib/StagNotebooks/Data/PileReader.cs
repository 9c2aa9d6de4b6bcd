using System.Text;
using System.Text.Json;

namespace StagNotebooks.Data;

/// <summary>One document of a Pile-format shard: its text, <c>meta.pile_set_name</c>, and where it came from.</summary>
public sealed record PileRecord(string Text, string Subset, string File, long Line);

/// <summary>A line that was not a usable record, and why.</summary>
public sealed record BadLine(string File, long Line, string Reason)
{
    public override string ToString() => $"{File}, line {Line}: {Reason}";
}

/// <summary>A bad line met in strict mode.</summary>
public sealed class PileFormatException(BadLine bad) : Exception(bad.ToString())
{
    public BadLine Bad { get; } = bad;
}

/// <summary>
/// Streams Pile-format shards (<c>.jsonl</c> or <c>.jsonl.zst</c>: one JSON object per line with "text" and
/// "meta": {"pile_set_name"}) line by line — a shard is never held in memory. Bad lines (invalid JSON, missing
/// or non-string text, invalid UTF-8, a truncated zstd stream) are skipped and counted, or stop the read in
/// strict mode; <see cref="BadLines"/> and <see cref="Summary"/> report them with file and line.
/// </summary>
public sealed class PileReader
{
    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    readonly IReadOnlyList<string> _files;
    readonly bool _strict;
    readonly HashSet<string>? _subsets;
    readonly List<BadLine> _bad = new();

    public PileReader(IEnumerable<string> pathsOrGlobs, bool strict = false, IEnumerable<string>? subsets = null)
    {
        _files = ExpandGlobs(pathsOrGlobs);
        _strict = strict;
        _subsets = subsets is null ? null : new HashSet<string>(subsets, StringComparer.Ordinal);
    }

    public IReadOnlyList<string> Files => _files;
    public IReadOnlyList<BadLine> BadLines => _bad;
    public long GoodLines { get; private set; }
    public long FilteredOut { get; private set; }

    public string Summary => _bad.Count == 0
        ? $"{GoodLines} records from {_files.Count} file(s), no bad lines"
        : $"{GoodLines} records from {_files.Count} file(s); skipped {_bad.Count} bad line(s): " +
          string.Join("; ", _bad.GroupBy(b => b.Reason.Split(':')[0]).Select(g => $"{g.Count()} × {g.Key}")) +
          $" (first: {_bad[0]})";

    /// <summary>Expands globs (<c>*</c> and <c>?</c> in the file name part) in order; a path matching nothing is an error naming it.</summary>
    public static IReadOnlyList<string> ExpandGlobs(IEnumerable<string> pathsOrGlobs)
    {
        var files = new List<string>();
        foreach (var p in pathsOrGlobs)
        {
            if (p.IndexOfAny(new[] { '*', '?' }) < 0)
            {
                if (!File.Exists(p)) throw new FileNotFoundException($"{p}: no such file");
                files.Add(p);
                continue;
            }
            var dir = Path.GetDirectoryName(p);
            var pattern = Path.GetFileName(p);
            var matches = Directory.Exists(string.IsNullOrEmpty(dir) ? "." : dir)
                ? Directory.GetFiles(string.IsNullOrEmpty(dir) ? "." : dir, pattern).OrderBy(f => f, StringComparer.Ordinal).ToArray()
                : Array.Empty<string>();
            if (matches.Length == 0) throw new FileNotFoundException($"{p}: matches no file");
            files.AddRange(matches);
        }
        return files;
    }

    public IEnumerable<PileRecord> Read()
    {
        foreach (var file in _files)
            foreach (var r in ReadFile(file))
                yield return r;
    }

    IEnumerable<PileRecord> ReadFile(string file)
    {
        using var fs = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        Stream stream = file.EndsWith(".zst", StringComparison.OrdinalIgnoreCase) ? new ZstdSharp.DecompressionStream(fs) : fs;
        using var _ = stream;
        var lines = new LineSplitter(stream);
        long n = 0;
        while (true)
        {
            byte[]? raw;
            try { raw = lines.Next(); }
            catch (EndOfStreamException) { Bad(file, n + 1, "truncated zstd stream: the file ends inside a compressed frame"); yield break; }
            catch (ZstdSharp.ZstdException e) { Bad(file, n + 1, $"corrupt zstd stream: {e.Message}"); yield break; }
            if (raw is null) yield break;
            n++;
            if (raw.Length == 0 || raw.All(b => b is (byte)' ' or (byte)'\t' or (byte)'\r')) continue;
            var record = Parse(file, n, raw);
            if (record is null) continue;
            if (_subsets != null && !_subsets.Contains(record.Subset)) { FilteredOut++; continue; }
            GoodLines++;
            yield return record;
        }
    }

    PileRecord? Parse(string file, long line, byte[] raw)
    {
        string json;
        try { json = StrictUtf8.GetString(raw); }
        catch (DecoderFallbackException) { Bad(file, line, "invalid UTF-8"); return null; }
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) { Bad(file, line, "not a JSON object"); return null; }
            if (!root.TryGetProperty("text", out var text)) { Bad(file, line, "missing \"text\""); return null; }
            if (text.ValueKind != JsonValueKind.String) { Bad(file, line, $"\"text\" is not a string (it is {text.ValueKind.ToString().ToLowerInvariant()})"); return null; }
            string subset = root.TryGetProperty("meta", out var meta) && meta.ValueKind == JsonValueKind.Object
                            && meta.TryGetProperty("pile_set_name", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : "unknown";
            return new PileRecord(text.GetString()!, subset, file, line);
        }
        catch (JsonException e) { Bad(file, line, $"invalid JSON: {e.Message.Split(" LineNumber")[0].TrimEnd('.', ' ')}"); return null; }
    }

    void Bad(string file, long line, string reason)
    {
        var bad = new BadLine(file, line, reason);
        if (_strict) throw new PileFormatException(bad);
        _bad.Add(bad);
    }

    /// <summary>Splits a byte stream at '\n' without decoding, so invalid UTF-8 is seen per line.</summary>
    sealed class LineSplitter(Stream s)
    {
        readonly byte[] _buf = new byte[1 << 16];
        int _pos, _len;
        bool _eof;

        public byte[]? Next()
        {
            var line = new MemoryStream();
            while (true)
            {
                if (_pos == _len)
                {
                    if (_eof) return line.Length > 0 ? line.ToArray() : null;
                    _len = s.Read(_buf, 0, _buf.Length); _pos = 0;
                    if (_len == 0) { _eof = true; continue; }
                }
                int nl = Array.IndexOf(_buf, (byte)'\n', _pos, _len - _pos);
                if (nl < 0) { line.Write(_buf, _pos, _len - _pos); _pos = _len; continue; }
                line.Write(_buf, _pos, nl - _pos);
                _pos = nl + 1;
                var bytes = line.ToArray();
                return bytes.Length > 0 && bytes[^1] == (byte)'\r' ? bytes[..^1] : bytes;
            }
        }
    }
}
