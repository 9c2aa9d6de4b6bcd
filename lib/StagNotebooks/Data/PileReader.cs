using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace StagNotebooks.Data;

/// <summary>One document of a Pile-format shard: its text, <c>meta.pile_set_name</c>, and where it came from.</summary>
public sealed record PileRecord(string Text, string Subset, string File, long Line);

/// <summary>A line that was not a usable record, and why; see <see cref="BadLine"/>.</summary>
public sealed class PileFormatException(BadLine bad) : Exception(bad.Head.Length > 0 ? $"{bad} (the line starts: {bad.Head})" : bad.ToString())
{
    public BadLine Bad { get; } = bad;
}

/// <summary>
/// Streams Pile-format shards (<c>.jsonl</c> or <c>.jsonl.zst</c>: one JSON object per line with "text" and
/// "meta": {"pile_set_name"}) line by line — a shard is never held in memory. Bad lines (invalid UTF-8, invalid JSON,
/// not an object, missing or non-string text, a truncated or corrupt zstd stream) are skipped, counted per kind and
/// handed one by one to <c>onBad</c> (the rejects file of <c>stag data prepare</c>), or stop the read in strict mode
/// (<see cref="PileFormatException"/>). The reader itself keeps only the counts and the first
/// <see cref="ExamplesPerKind"/> of each kind, so a shard with millions of bad lines costs no memory.
/// </summary>
public sealed class PileReader
{
    /// <summary>How many bad lines of each kind <see cref="Examples"/> keeps (and the commands print).</summary>
    public const int ExamplesPerKind = 3;

    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    readonly IReadOnlyList<string> _files;
    readonly bool _strict;
    readonly HashSet<string>? _subsets;
    readonly Action<BadLine>? _onBad;
    readonly List<BadLine> _examples = new();
    readonly List<string> _kindOrder = new();
    readonly Dictionary<string, long> _kindCounts = new(StringComparer.Ordinal);

    /// <param name="onBad">called with every bad line, in file order (not in strict mode, where the first one throws).</param>
    public PileReader(IEnumerable<string> pathsOrGlobs, bool strict = false, IEnumerable<string>? subsets = null, Action<BadLine>? onBad = null)
    {
        _files = ExpandGlobs(pathsOrGlobs);
        _strict = strict;
        _subsets = subsets is null ? null : new HashSet<string>(subsets, StringComparer.Ordinal);
        _onBad = onBad;
    }

    public IReadOnlyList<string> Files => _files;
    public long GoodLines { get; private set; }
    public long FilteredOut { get; private set; }
    /// <summary>Bad lines met so far, all kinds.</summary>
    public long BadLineCount { get; private set; }
    /// <summary>The first <see cref="ExamplesPerKind"/> bad lines of each kind, in file order.</summary>
    public IReadOnlyList<BadLine> Examples => _examples;
    /// <summary>Bad lines per kind, kinds in the order first met.</summary>
    public IReadOnlyList<(string Kind, long Count)> CountsByKind => _kindOrder.Select(k => (k, _kindCounts[k])).ToList();
    /// <summary>The truncated or corrupt zstd stream that ended a file's read early, if one did.</summary>
    public BadLine? Damaged { get; private set; }

    public string Summary => BadLineCount == 0
        ? $"{GoodLines} records from {_files.Count} file(s), no bad lines"
        : $"{GoodLines} records from {_files.Count} file(s); skipped {BadLineCount} bad line(s): " +
          string.Join("; ", CountsByKind.Select(k => $"{k.Count} × {k.Kind}"));

    /// <summary>
    /// The examples as lines to print, one per bad line ("  file, line N: reason | line starts: …"), under a heading
    /// that says how many of each kind are shown; nothing when there were no bad lines.
    /// </summary>
    public IReadOnlyList<string> ExampleLines()
    {
        if (BadLineCount == 0) return Array.Empty<string>();
        var lines = new List<string> { BadLineCount > _examples.Count ? $"  the first {ExamplesPerKind} bad lines of each kind:" : "  bad lines:" };
        lines.AddRange(_examples.Select(b => b.Head.Length > 0 ? $"    {b} | line starts: {b.Head}" : $"    {b}"));
        return lines;
    }

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
            catch (EndOfStreamException)
            {
                Damaged = Bad(file, n + 1, BadLine.TruncatedZstd, $"{BadLine.TruncatedZstd}: the file ends inside a compressed frame", Array.Empty<byte>());
                yield break;
            }
            catch (ZstdSharp.ZstdException e)
            {
                Damaged = Bad(file, n + 1, BadLine.CorruptZstd, $"{BadLine.CorruptZstd}: {e.Message}", Array.Empty<byte>());
                yield break;
            }
            if (raw is null) yield break;
            n++;
            if (IsBlank(raw)) continue;
            var record = Parse(file, n, raw);
            if (record is null) continue;
            if (_subsets != null && !_subsets.Contains(record.Subset)) { FilteredOut++; continue; }
            GoodLines++;
            yield return record;
        }
    }

    static bool IsBlank(byte[] raw)
    {
        foreach (var b in raw)
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r')) return false;
        return true;
    }

    PileRecord? Parse(string file, long line, byte[] raw)
    {
        string json;
        try { json = StrictUtf8.GetString(raw); }
        catch (DecoderFallbackException)
        {
            int at = FirstInvalidUtf8(raw);
            Bad(file, line, BadLine.InvalidUtf8, $"{BadLine.InvalidUtf8}: byte 0x{raw[at]:X2} at column {at + 1}", raw);
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) { Bad(file, line, BadLine.NotAnObject, $"{BadLine.NotAnObject} (it is {Kind(root)})", raw); return null; }
            if (!root.TryGetProperty("text", out var text)) { Bad(file, line, BadLine.MissingText, BadLine.MissingText, raw); return null; }
            if (text.ValueKind != JsonValueKind.String) { Bad(file, line, BadLine.TextNotString, $"{BadLine.TextNotString} (it is {Kind(text)})", raw); return null; }
            string subset = root.TryGetProperty("meta", out var meta) && meta.ValueKind == JsonValueKind.Object
                            && meta.TryGetProperty("pile_set_name", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : "unknown";
            return new PileRecord(text.GetString()!, subset, file, line);
        }
        catch (JsonException e)
        {
            Bad(file, line, BadLine.InvalidJson, $"{BadLine.InvalidJson}: {JsonErrorDetail(e.Message)}", raw);
            return null;
        }
    }

    /// <summary>
    /// System.Text.Json's message without its position suffix, short and printable: it quotes an invalid literal
    /// whole (the rest of the line), so a literal over 40 characters is cut to 40 and "…", and control characters
    /// become \xNN.
    /// </summary>
    internal static string JsonErrorDetail(string message)
    {
        var detail = Regex.Replace(message.Split(" LineNumber")[0].TrimEnd('.', ' '), "^'(.{40}).*' is an invalid JSON literal", "'$1…' is an invalid JSON literal");
        return Regex.Replace(detail, @"\p{Cc}", m => $"\\x{(int)m.Value[0]:X2}");
    }

    static string Kind(JsonElement e) => e.ValueKind.ToString().ToLowerInvariant();

    static int FirstInvalidUtf8(ReadOnlySpan<byte> raw)
    {
        int i = 0;
        while (i < raw.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(raw[i..], out _, out int used) != System.Buffers.OperationStatus.Done) return i;
            i += used;
        }
        return 0;
    }

    BadLine Bad(string file, long line, string kind, string reason, byte[] raw)
    {
        var bad = new BadLine(file, line, kind, reason, raw.Length, BadLine.Escape(raw));
        if (_strict) throw new PileFormatException(bad);
        BadLineCount++;
        if (!_kindCounts.TryGetValue(kind, out long count)) _kindOrder.Add(kind);
        _kindCounts[kind] = count + 1;
        if (count < ExamplesPerKind) _examples.Add(bad);
        _onBad?.Invoke(bad);
        return bad;
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
