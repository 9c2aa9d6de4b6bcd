using System.Text.Encodings.Web;
using System.Text.Json;
using StagNotebooks.IO;

namespace StagNotebooks.Data;

/// <summary>
/// Every bad line of a read, as JSON lines, one object per line in file order:
/// <c>{"file": …, "line": N, "kind": …, "reason": …, "bytes": N, "head": …}</c> (<c>head</c>: the line's first
/// <see cref="BadLine.HeadBytes"/> bytes, escaped by <see cref="BadLine.Escape"/>). It is written while the shard is
/// read and published atomically by <see cref="Complete"/>; a read with no bad lines leaves no file (and removes one
/// an earlier read left there).
/// </summary>
public sealed class RejectsFile(string path) : IDisposable
{
    static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    PendingFile? _pending;
    Utf8JsonWriter? _json;

    public string Path { get; } = System.IO.Path.GetFullPath(path);
    public long Count { get; private set; }

    public void Add(BadLine bad)
    {
        _pending ??= new PendingFile(Path);
        _json ??= new Utf8JsonWriter(_pending.Stream, Options);
        _json.WriteStartObject();
        _json.WriteString("file", bad.File);
        _json.WriteNumber("line", bad.Line);
        _json.WriteString("kind", bad.Kind);
        _json.WriteString("reason", bad.Reason);
        _json.WriteNumber("bytes", bad.Bytes);
        _json.WriteString("head", bad.Head);
        _json.WriteEndObject();
        _json.Flush();
        _json.Reset();
        _pending.Stream.WriteByte((byte)'\n');
        Count++;
    }

    /// <summary>Publishes the file and returns its path, or, with no bad lines, removes a stale one and returns null.</summary>
    public string? Complete()
    {
        if (_pending is null)
        {
            if (File.Exists(Path)) File.Delete(Path);
            return null;
        }
        _json!.Dispose();
        _pending.Commit();
        return Path;
    }

    /// <summary>Reads a rejects file back (tests, tools).</summary>
    public static IReadOnlyList<BadLine> Read(string path) =>
        File.ReadLines(path).Select((l, i) =>
        {
            try
            {
                var e = JsonDocument.Parse(l).RootElement;
                return new BadLine(e.GetProperty("file").GetString()!, e.GetProperty("line").GetInt64(), e.GetProperty("kind").GetString()!,
                                   e.GetProperty("reason").GetString()!, e.GetProperty("bytes").GetInt32(), e.GetProperty("head").GetString()!);
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new InvalidDataException($"{path}, line {i + 1}: not a rejects record ({ex.Message})");
            }
        }).ToList();

    public void Dispose()
    {
        _json?.Dispose();
        _pending?.Dispose();
    }
}
