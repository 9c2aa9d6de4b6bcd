using System.Text;

namespace StagNotebooks.Data;

/// <summary>
/// A line of a shard that was not a usable record: where it is (file, 1-based line), its kind (one of
/// <see cref="Kinds"/>), the reason in words (the kind, plus a detail for some kinds), its length in bytes and its
/// first bytes as text (<see cref="Escape"/>).
/// </summary>
public sealed record BadLine(string File, long Line, string Kind, string Reason, int Bytes, string Head)
{
    public const string InvalidUtf8 = "invalid UTF-8";
    public const string InvalidJson = "invalid JSON";
    public const string NotAnObject = "not a JSON object";
    public const string MissingText = "missing \"text\"";
    public const string TextNotString = "\"text\" is not a string";
    public const string TruncatedZstd = "truncated zstd stream";
    public const string CorruptZstd = "corrupt zstd stream";

    /// <summary>Every kind, in the order a line is checked (the zstd kinds end the file's read).</summary>
    public static IReadOnlyList<string> Kinds { get; } = new[] { InvalidUtf8, InvalidJson, NotAnObject, MissingText, TextNotString, TruncatedZstd, CorruptZstd };

    /// <summary>How many leading bytes of a bad line <see cref="Head"/> shows.</summary>
    public const int HeadBytes = 80;

    public override string ToString() => $"{File}, line {Line}: {Reason}";

    /// <summary>
    /// The first <paramref name="maxBytes"/> bytes of a line as text, unambiguously: valid UTF-8 as its characters,
    /// a backslash as <c>\\</c>, and every byte that is not valid UTF-8 or is a control character as <c>\xNN</c>. A
    /// character that would cross the limit is left out whole.
    /// </summary>
    public static string Escape(ReadOnlySpan<byte> raw, int maxBytes = HeadBytes)
    {
        var sb = new StringBuilder();
        int i = 0;
        while (i < raw.Length && i < maxBytes)
        {
            var status = Rune.DecodeFromUtf8(raw[i..], out var rune, out int used);
            if (status != System.Buffers.OperationStatus.Done) { sb.Append($"\\x{raw[i]:X2}"); i++; continue; }
            if (i + used > maxBytes) break;
            if (rune.Value == '\\') sb.Append("\\\\");
            else if (rune.Value < 0x20 || rune.Value == 0x7F) sb.Append($"\\x{rune.Value:X2}");
            else sb.Append(rune.ToString());
            i += used;
        }
        return sb.ToString();
    }
}
