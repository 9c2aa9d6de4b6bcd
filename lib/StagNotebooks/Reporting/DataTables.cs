using Microsoft.Data.Analysis;
using StagNotebooks.Data;

namespace StagNotebooks.Reporting;

/// <summary>Notebook 01's tables: the packed corpus and how many tokens each bundled tokenizer makes of the same text.</summary>
public static class DataTables
{
    /// <summary>One row per (split, subset): documents, bytes, tokens and bytes per token.</summary>
    public static DataFrame Corpus(DatasetManifest m)
    {
        var rows = m.Splits.SelectMany(s => s.Value.Subsets.Select(g => (Split: s.Key, Subset: g.Key, Counts: g.Value))).ToList();
        return new DataFrame(
            new StringDataFrameColumn("split", rows.Select(r => r.Split)), new StringDataFrameColumn("subset", rows.Select(r => r.Subset)),
            new Int64DataFrameColumn("documents", rows.Select(r => r.Counts.Documents)), new Int64DataFrameColumn("bytes", rows.Select(r => r.Counts.Bytes)),
            new Int64DataFrameColumn("tokens", rows.Select(r => r.Counts.Tokens)),
            new DoubleDataFrameColumn("bytes/token", rows.Select(r => (double)r.Counts.Bytes / r.Counts.Tokens)));
    }

    /// <summary>One row per tokenizer: its vocabulary, the tokens it makes of <paramref name="texts"/> (column "&lt;textName&gt; tokens"), and UTF-8 bytes per token.</summary>
    public static DataFrame Tokenizers(IReadOnlyList<string> texts, IEnumerable<string> names, string textName = "val")
    {
        long bytes = texts.Sum(t => (long)System.Text.Encoding.UTF8.GetByteCount(t));
        var counts = names.Select(n => { var t = TokenizerFactory.Create(n); return (Name: n, t.VocabSize, Tokens: texts.Sum(s => (long)t.Tokenizer.CountTokens(s))); }).ToList();
        return new DataFrame(new StringDataFrameColumn("tokenizer", counts.Select(c => c.Name)), new Int32DataFrameColumn("vocabulary", counts.Select(c => c.VocabSize)),
            new Int64DataFrameColumn($"{textName} tokens", counts.Select(c => c.Tokens)), new DoubleDataFrameColumn("bytes/token", counts.Select(c => (double)bytes / c.Tokens)));
    }
}
