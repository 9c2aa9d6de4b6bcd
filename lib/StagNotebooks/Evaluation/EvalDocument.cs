using System.Text;
using Microsoft.ML.Tokenizers;

namespace StagNotebooks.Evaluation;

/// <summary>
/// A held-out document for perplexity: its tokens, the UTF-8 bytes of the text its scored tokens cover (for bits
/// per byte), and the subset it belongs to (e.g. the Pile's pile_set_name). Targets 1..T−1 are scored.
/// </summary>
public sealed record EvalDocument(string Subset, long[] Tokens, long Bytes)
{
    /// <summary>
    /// Tokenizes <paramref name="text"/>. With <paramref name="bosToken"/> every text token is scored and Bytes is the
    /// whole text; without, the first token is context only and its bytes are left out of Bytes.
    /// </summary>
    public static EvalDocument FromText(Tokenizer tokenizer, string text, string subset = "all", int? bosToken = null)
    {
        var ids = tokenizer.EncodeToIds(text);
        long bytes = Encoding.UTF8.GetByteCount(text);
        if (bosToken is int bos) return new EvalDocument(subset, ids.Select(i => (long)i).Prepend(bos).ToArray(), bytes);
        if (ids.Count > 0) bytes = Math.Max(0, bytes - Encoding.UTF8.GetByteCount(tokenizer.Decode(ids.Take(1)) ?? ""));
        return new EvalDocument(subset, ids.Select(i => (long)i).ToArray(), bytes);
    }
}
