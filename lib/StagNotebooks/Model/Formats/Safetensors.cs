using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Model;

/// <summary>One tensor's header entry: dtype name ("F32", "BF16", …), shape and byte range within the data section.</summary>
public sealed record SafetensorsEntry(string Dtype, long[] Shape, long Begin, long End);

/// <summary>A parsed header: tensors in file order, the string-to-string <c>__metadata__</c>, and where the data section starts.</summary>
public sealed record SafetensorsHeader(IReadOnlyDictionary<string, SafetensorsEntry> Tensors, IReadOnlyDictionary<string, string> Metadata, long DataStart);

/// <summary>
/// The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON
/// (<c>{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {string: string}}</c>, padded with
/// spaces to a multiple of 8), then the raw little-endian tensor bytes, row-major, offsets relative to the data start.
/// Written atomically (temporary file, flush to disk, rename). Every malformed or truncated file is an error naming it.
/// </summary>
public static class Safetensors
{
    static readonly Dictionary<ScalarType, string> Names = new()
    {
        [ScalarType.Float32] = "F32", [ScalarType.BFloat16] = "BF16", [ScalarType.Float16] = "F16", [ScalarType.Float64] = "F64",
        [ScalarType.Int64] = "I64", [ScalarType.Int32] = "I32", [ScalarType.Int16] = "I16", [ScalarType.Int8] = "I8",
        [ScalarType.Byte] = "U8", [ScalarType.Bool] = "BOOL",
    };
    static readonly Dictionary<string, ScalarType> Types = Names.ToDictionary(kv => kv.Value, kv => kv.Key);

    public static string DtypeName(ScalarType t) =>
        Names.TryGetValue(t, out var n) ? n : throw new NotSupportedException($"safetensors: dtype {t} is not supported");

    static int ElementSize(string dtype) => dtype switch
    {
        "F64" or "I64" => 8, "F32" or "I32" => 4, "BF16" or "F16" or "I16" => 2, _ => 1,
    };

    /// <summary>Writes <paramref name="tensors"/> (any device, any layout) and <paramref name="metadata"/> to <paramref name="path"/>, atomically.</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors: writing needs a little-endian host");
        var list = tensors.ToList();
        var header = Header(list, metadata);
        var json = Encoding.UTF8.GetBytes(header.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        int padded = (json.Length + 7) / 8 * 8;

        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = full + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                fs.Write(BitConverter.GetBytes((ulong)padded));
                fs.Write(json);
                for (int i = json.Length; i < padded; i++) fs.WriteByte((byte)' ');
                foreach (var (_, t) in list)
                {
                    using var cpu = t.detach().cpu().contiguous();
                    fs.Write(cpu.bytes);
                }
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>The JSON header: the metadata, then each tensor's dtype, shape and byte range in the data section, in order.</summary>
    static JsonObject Header(List<KeyValuePair<string, Tensor>> list, IReadOnlyDictionary<string, string>? metadata)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        foreach (var (name, t) in list)
        {
            if (name == "__metadata__") throw new ArgumentException("safetensors: a tensor may not be named __metadata__");
            long bytes = t.numel() * ElementSize(DtypeName(t.dtype));
            header[name] = new JsonObject
            {
                ["dtype"] = DtypeName(t.dtype),
                ["shape"] = new JsonArray(t.shape.Select(s => (JsonNode)JsonValue.Create(s)).ToArray()),
                ["data_offsets"] = new JsonArray(JsonValue.Create(offset), JsonValue.Create(offset + bytes)),
            };
            offset += bytes;
        }
        return header;
    }

    /// <summary>Reads and checks the header: every entry's dtype, shape and offsets, and that the data section is all there.</summary>
    public static SafetensorsHeader ReadHeader(string path)
    {
        using var fs = OpenRead(path);
        return ReadHeader(fs, path);
    }

    static FileStream OpenRead(string path) =>
        File.Exists(path) ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20)
                          : throw new CheckpointException($"{path}: no such file");

    static SafetensorsHeader ReadHeader(FileStream fs, string path)
    {
        CheckpointException Bad(string why) => new($"{path}: not a valid safetensors file: {why}");
        long length = fs.Length;
        if (length < 8) throw Bad($"{length} bytes, shorter than the 8-byte header length");
        var lenBytes = new byte[8];
        fs.ReadExactly(lenBytes);
        ulong n = BitConverter.ToUInt64(lenBytes);
        if (n > (ulong)(length - 8) || n > 100_000_000) throw Bad($"header length {n} but the file has {length - 8} bytes after it (truncated?)");
        var json = new byte[n];
        fs.ReadExactly(json);
        JsonObject root;
        try { root = JsonNode.Parse(json) as JsonObject ?? throw Bad("the header is not a JSON object"); }
        catch (JsonException e) { throw Bad($"the header is not JSON ({e.Message})"); }

        var metadata = new Dictionary<string, string>();
        var tensors = new Dictionary<string, SafetensorsEntry>();
        long dataStart = 8 + (long)n, dataLength = length - dataStart, covered = 0;
        foreach (var (name, node) in root)
        {
            if (name == "__metadata__")
            {
                if (node is not JsonObject meta) throw Bad("__metadata__ is not an object");
                foreach (var (k, v) in meta)
                    metadata[k] = v is JsonValue jv && jv.TryGetValue<string>(out var s) ? s : throw Bad($"__metadata__.{k} is not a string");
                continue;
            }
            try
            {
                var o = (JsonObject)node!;
                var dtype = o["dtype"]!.GetValue<string>();
                if (!Types.ContainsKey(dtype)) throw Bad($"tensor {name}: dtype {dtype} is not supported (supported: {string.Join(", ", Types.Keys)})");
                var shape = o["shape"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
                var off = o["data_offsets"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
                if (off.Length != 2 || shape.Any(s => s < 0)) throw Bad($"tensor {name}: bad shape or data_offsets");
                long want = shape.Aggregate(1L, (a, b) => a * b) * ElementSize(dtype);
                if (off[1] - off[0] != want) throw Bad($"tensor {name}: data_offsets [{off[0]}, {off[1]}] hold {off[1] - off[0]} bytes, {dtype} [{string.Join(", ", shape)}] needs {want}");
                if (off[0] < 0 || off[1] > dataLength) throw Bad($"tensor {name}: data_offsets [{off[0]}, {off[1]}] run past the end of the data ({dataLength} bytes; truncated?)");
                tensors[name] = new SafetensorsEntry(dtype, shape, off[0], off[1]);
                covered = Math.Max(covered, off[1]);
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException or InvalidCastException)
            {
                throw Bad($"tensor {name}: malformed entry ({e.Message})");
            }
        }
        if (covered != dataLength) throw Bad($"the data section has {dataLength} bytes but the tensors cover {covered}");
        return new SafetensorsHeader(tensors, metadata, dataStart);
    }

    /// <summary>Reads every tensor (on the CPU, in the file's dtype) and the metadata.</summary>
    public static (Dictionary<string, Tensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors: reading needs a little-endian host");
        using var fs = OpenRead(path);
        var header = ReadHeader(fs, path);
        var result = new Dictionary<string, Tensor>();
        foreach (var (name, e) in header.Tensors)
        {
            var buffer = new byte[e.End - e.Begin];
            fs.Seek(header.DataStart + e.Begin, SeekOrigin.Begin);
            fs.ReadExactly(buffer);
            var t = torch.empty(e.Shape, Types[e.Dtype]);
            if (buffer.Length > 0) t.bytes = buffer;
            result[name] = t;
        }
        return (result, header.Metadata);
    }
}
