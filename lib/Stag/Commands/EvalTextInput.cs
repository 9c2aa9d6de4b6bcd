using System.Text.Json;

namespace StagNotebooks.Cli.Commands;

/// <summary>
/// Documents of a Pile-format jsonl file ({"text": ..., "meta": {"pile_set_name": ...}}), plain or .zst-compressed.
/// Kept beside the eval commands until the data branch's reader is merged.
/// </summary>
static class EvalTextInput
{
    public static IEnumerable<(string Text, string Subset)> Read(string path)
    {
        if (!File.Exists(path)) throw new CliException($"{path}: no such file");
        using var file = File.OpenRead(path);
        using Stream data = path.EndsWith(".zst", StringComparison.OrdinalIgnoreCase) ? new ZstdSharp.DecompressionStream(file) : file;
        using var reader = new StreamReader(data);
        int lineNo = 0;
        for (string? line; (line = reader.ReadLine()) != null;)
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            (string, string) doc;
            try
            {
                using var json = JsonDocument.Parse(line);
                var root = json.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
                    throw new CliException($"{path}:{lineNo}: expected an object with a string field 'text'");
                string subset = root.TryGetProperty("meta", out var meta) && meta.ValueKind == JsonValueKind.Object
                    && meta.TryGetProperty("pile_set_name", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString()! : "all";
                doc = (text.GetString()!, subset);
            }
            catch (JsonException e) { throw new CliException($"{path}:{lineNo}: not valid JSON ({e.Message})"); }
            yield return doc;
        }
    }
}
