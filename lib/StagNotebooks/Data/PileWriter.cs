using System.Text.Json;
using StagNotebooks.IO;

namespace StagNotebooks.Data;

/// <summary>Writes Pile-format records to <c>.jsonl</c> or (by extension) <c>.jsonl.zst</c>, atomically.</summary>
public static class PileWriter
{
    public static void Write(string path, IEnumerable<(string Text, string Subset, IReadOnlyDictionary<string, string>? Extra)> records)
    {
        AtomicFile.Write(path, tmp =>
        {
            using var fs = File.Create(tmp);
            Stream s = path.EndsWith(".zst", StringComparison.OrdinalIgnoreCase) ? new ZstdSharp.CompressionStream(fs, 19) : fs;
            using (s)
            using (var w = new StreamWriter(s, new System.Text.UTF8Encoding(false)) { NewLine = "\n" })
                foreach (var (text, subset, extra) in records)
                {
                    var meta = new Dictionary<string, string> { ["pile_set_name"] = subset };
                    if (extra != null) foreach (var kv in extra) meta[kv.Key] = kv.Value;
                    w.WriteLine(JsonSerializer.Serialize(new { text, meta }));
                }
        });
    }
}
