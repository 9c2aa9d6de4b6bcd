using System.Text;
using Microsoft.ML.Tokenizers;
using StagNotebooks.Data;
using StagNotebooks.IO;

namespace StagNotebooks.Tests.Data;

/// <summary>Every tokenizer encodes any text to ids inside its vocabulary; packing refuses an id outside it.</summary>
public class TokenizerCoverageTests
{
    static readonly string[] Pieces = { " ", "  ", "\t", "\n", "\r\n", "\u00A0", "\u3000", "a", "Z", "é", "e\u0301", "ß", "汉", "か", "🙂", "👍🏽", "\u200D",
                                        "\uFFFD", "\u0000", "\u001b", "'s", "123", "<|endoftext|>", "—", "\uD800", "\uDFFF", ".", "ﬁ" };

    /// <summary>Random and adversarial strings: pieces concatenated, long whitespace runs, random code points (lone surrogates included).</summary>
    static IEnumerable<string> Strings(int seed, int count)
    {
        var rng = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            var sb = new StringBuilder();
            switch (i % 3)
            {
                case 0: for (int k = rng.Next(1, 30); k > 0; k--) sb.Append(Pieces[rng.Next(Pieces.Length)]); break;
                case 1: sb.Append("x").Append(new string(" \t\n"[rng.Next(3)], rng.Next(1, 200))).Append("y"); break;
                default: for (int k = rng.Next(1, 40); k > 0; k--) sb.Append((char)rng.Next(0, 0x10000)); break;
            }
            yield return sb.ToString();
        }
    }

    [Theory]
    [InlineData("brown-bpe")]
    [InlineData("cl100k_base")]
    [InlineData("o200k_base")]
    public void Every_id_of_random_and_adversarial_text_is_inside_the_vocabulary(string name)
    {
        var t = TokenizerFactory.Create(name);   // the load itself runs the coverage probes
        foreach (var s in Strings(name.Length, 300).Concat(TokenizerFactory.CoverageProbes))
            foreach (var id in t.Tokenizer.EncodeToIds(s))
                Assert.True(id >= 0 && id < t.VocabSize, $"{name}: {System.Text.Json.JsonSerializer.Serialize(s)} gives id {id} (vocabulary {t.VocabSize})");
    }

    [Fact]
    public void A_freshly_trained_bpe_covers_every_input_too()
    {
        using var dir = new TestPaths.TempDir();
        new BpeTrainer().Train(new PileReader(new[] { RepoPaths.BrownSplit("val") }).Read().Select(r => r.Text).Take(20), 400).Save(dir.Path);
        var t = TokenizerFactory.Create("bpe:" + dir.Path);
        foreach (var s in Strings(7, 200))
            Assert.All(t.Tokenizer.EncodeToIds(s), id => Assert.InRange(id, 0, t.VocabSize - 1));
    }

    [Fact]
    public void Two_spaces_stay_in_the_bundled_vocabulary_where_CodeGen_added_tokens_left_it()
    {
        var t = TokenizerFactory.Create("brown-bpe");
        Assert.Equal("two  spaces", t.Tokenizer.Decode(t.Tokenizer.EncodeToIds("two  spaces")));
        // The old construction (CodeGenTokenizer.Create adds CodeGen's whitespace-run tokens) fails the load check.
        using var vs = File.OpenRead(RepoPaths.Data("tokenizer", "vocab.json"));
        using var ms = File.OpenRead(RepoPaths.Data("tokenizer", "merges.txt"));
        var old = CodeGenTokenizer.Create(vs, ms);
        var e = Assert.Throws<InvalidDataException>(() => TokenizerFactory.CheckCoverage(new TokenizerInfo("old", old, 4096, t.EndOfText)));
        Assert.StartsWith("tokenizer old: encodes \"two  spaces\" to id(s) 50286 outside its vocabulary of 4096", e.Message);
    }

    [Fact]
    public void Packing_refuses_an_id_outside_the_vocabulary_naming_the_document_file_and_line()
    {
        var t = TokenizerFactory.Create("brown-bpe");
        var small = t with { VocabSize = 300 };   // a vocabulary the tokenizer does not fit
        var e = Assert.Throws<InvalidDataException>(() => PackedDataset.Encode(small, new PileRecord("the quick brown fox", "x", "shard.jsonl", 17)));
        Assert.StartsWith("shard.jsonl, line 17: tokenizer brown-bpe gave token id ", e.Message);
        Assert.EndsWith("outside its vocabulary of 300 (text starts \"the quick brown fox\")", e.Message);
    }
}
