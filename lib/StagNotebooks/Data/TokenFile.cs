using System.IO.MemoryMappedFiles;
using StagNotebooks.IO;

namespace StagNotebooks.Data;

/// <summary>
/// A packed token file: a 1024-byte header of 256 little-endian int32 (as llm.c's) — [0] magic 0x53544147 "STAG",
/// [1] version, [2..3] token count (int64), [4] bytes per token (2 = uint16, 4 = uint32), [5] vocabulary size,
/// [6] end-of-text id — then the tokens. Read through a memory map: opening is instant, pages load on demand.
/// </summary>
public sealed class TokenFile : IDisposable
{
    public const int Magic = 0x53544147, Version = 1, HeaderInts = 256, HeaderBytes = HeaderInts * 4;

    readonly MemoryMappedFile _map;
    readonly MemoryMappedViewAccessor _view;
    public string Path { get; }
    public long Count { get; }
    public int BytesPerToken { get; }
    public int VocabSize { get; }
    public int EndOfText { get; }

    TokenFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, long count, int width, int vocab, int eot)
    {
        Path = path; _map = map; _view = view; Count = count; BytesPerToken = width; VocabSize = vocab; EndOfText = eot;
    }

    /// <summary>Opens a token file; a wrong magic, version, dtype or size is an error naming the file and the field.</summary>
    public static TokenFile Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such token file (run `stag data prepare`)");
        long length = new FileInfo(path).Length;
        if (length < HeaderBytes) throw new InvalidDataException($"{path}: {length} bytes is too short for a token file header ({HeaderBytes} bytes)");
        var header = new int[HeaderInts];
        using (var fs = File.OpenRead(path))
        {
            var bytes = new byte[HeaderBytes];
            fs.ReadExactly(bytes);
            Buffer.BlockCopy(bytes, 0, header, 0, HeaderBytes);
        }
        if (header[0] != Magic) throw new InvalidDataException($"{path}: header field magic is 0x{header[0]:x8}, expected 0x{Magic:x8}: not a StagNotebooks token file");
        if (header[1] != Version) throw new InvalidDataException($"{path}: header field version is {header[1]}, this build reads version {Version}");
        int width = header[4];
        if (width is not (2 or 4)) throw new InvalidDataException($"{path}: header field dtype is {width} bytes per token, expected 2 (uint16) or 4 (uint32)");
        long count = (long)(uint)header[2] | ((long)header[3] << 32);
        if (length != HeaderBytes + count * width)
            throw new InvalidDataException($"{path}: header field count says {count} tokens ({count * width} bytes) but the file holds {length - HeaderBytes} bytes after the header");
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        var view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        return new TokenFile(path, map, view, count, width, header[5], header[6]);
    }

    /// <summary>Tokens [start, start+n) as int64 (what an embedding lookup takes).</summary>
    public long[] Read(long start, int n)
    {
        if (start < 0 || start + n > Count) throw new ArgumentOutOfRangeException(nameof(start), $"{Path}: tokens [{start}, {start + n}) outside [0, {Count})");
        var result = new long[n];
        long offset = HeaderBytes + start * BytesPerToken;
        if (BytesPerToken == 2)
        {
            var buf = new ushort[n];
            _view.ReadArray(offset, buf, 0, n);
            for (int i = 0; i < n; i++) result[i] = buf[i];
        }
        else
        {
            var buf = new uint[n];
            _view.ReadArray(offset, buf, 0, n);
            for (int i = 0; i < n; i++) result[i] = buf[i];
        }
        return result;
    }

    /// <summary>Writes tokens with a header, atomically; the narrowest dtype that holds the vocabulary.</summary>
    public static void Write(string path, IReadOnlyList<int> tokens, int vocabSize, int endOfText)
    {
        int width = vocabSize <= 65536 ? 2 : 4;
        AtomicFile.Write(path, tmp =>
        {
            using var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            using var w = new BinaryWriter(fs);
            var header = new int[HeaderInts];
            header[0] = Magic; header[1] = Version;
            header[2] = (int)(tokens.Count & 0xffffffff); header[3] = (int)((long)tokens.Count >> 32);
            header[4] = width; header[5] = vocabSize; header[6] = endOfText;
            foreach (var h in header) w.Write(h);
            var buffer = new byte[width * 65536];
            for (int start = 0; start < tokens.Count; start += 65536)
            {
                int n = Math.Min(65536, tokens.Count - start);
                for (int i = 0; i < n; i++)
                {
                    int t = tokens[start + i];
                    if ((uint)t >= (uint)vocabSize) throw new InvalidDataException($"{path}: token id {t} outside the vocabulary of {vocabSize}");
                    if (width == 2) System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(i * 2), (ushort)t);
                    else System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(i * 4), (uint)t);
                }
                w.Write(buffer, 0, n * width);
            }
        });
    }

    public void Dispose() { _view.Dispose(); _map.Dispose(); }
}
