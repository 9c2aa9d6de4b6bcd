namespace StagNotebooks.Evaluation;

/// <summary>
/// Perplexity figures of a set of documents. Loss = NLL / Tokens (nats per token); BitsPerByte = NLL / ln 2 / Bytes.
/// Subsets combine exactly: the overall NLL, tokens and bytes are the subsets' sums.
/// </summary>
public sealed record PerplexityFigures(string Subset, int Documents, long Tokens, long Bytes, double Nll, double Loss, double Perplexity, double BitsPerByte)
{
    public static PerplexityFigures From(string subset, int documents, long tokens, long bytes, double nll)
    {
        double loss = tokens > 0 ? nll / tokens : double.NaN;
        return new PerplexityFigures(subset, documents, tokens, bytes, nll, loss, Math.Exp(loss), bytes > 0 ? nll / Math.Log(2) / bytes : double.NaN);
    }
}

public sealed record PerplexityReport(PerplexityFigures Overall, IReadOnlyList<PerplexityFigures> Subsets, int Stride);

/// <summary>Teacher-forced perplexity and bits per byte, overall and per subset; long documents in sliding windows.</summary>
/// <param name="batchElements">logits per forward call (<see cref="TokenScoring.ScoreMany"/>)</param>
public sealed class PerplexityEvaluator(ILanguageModel model, int? stride = null, long batchElements = TokenScoring.DefaultBatchElements)
{
    public const string OverallName = "overall";
    public int Stride { get; } = stride ?? TokenScoring.DefaultStride(model.MaxContext);

    public PerplexityReport Evaluate(IEnumerable<EvalDocument> documents)
    {
        var bySubset = new SortedDictionary<string, (int Docs, long Tokens, long Bytes, double Nll)>(StringComparer.Ordinal);
        var docs = documents.Where(d => d.Tokens.Length >= 2).ToList();   // a one-token document has nothing to predict
        // every window of every document in as few forward calls as fit (TokenScoring.ScoreMany)
        var all = TokenScoring.ScoreMany(model, docs.Select(d => new ScoringItem(d.Tokens, 1, Stride)).ToList(), batchElements);
        foreach (var (doc, scores) in docs.Zip(all))
        {
            bySubset.TryGetValue(doc.Subset, out var s);
            bySubset[doc.Subset] = (s.Docs + 1, s.Tokens + scores.LogProbs.Length, s.Bytes + doc.Bytes, s.Nll - scores.Sum);
        }
        var subsets = bySubset.Select(kv => PerplexityFigures.From(kv.Key, kv.Value.Docs, kv.Value.Tokens, kv.Value.Bytes, kv.Value.Nll)).ToList();
        var overall = PerplexityFigures.From(OverallName, subsets.Sum(s => s.Documents), subsets.Sum(s => s.Tokens), subsets.Sum(s => s.Bytes), subsets.Sum(s => s.Nll));
        return new PerplexityReport(overall, subsets, Stride);
    }
}
