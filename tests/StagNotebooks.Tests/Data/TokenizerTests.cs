using StagNotebooks.Data;
using StagNotebooks.IO;

namespace StagNotebooks.Tests.Data;

public class TokenizerTests
{
    static IEnumerable<string> CorpusLines(int n) =>
        new PileReader(new[] { RepoPaths.BrownSplit("test") }).Read().SelectMany(r => r.Text.Split("\n\n")).Take(n);

    [Theory]
    [InlineData("brown-bpe")]
    [InlineData("brown-bpe-1k")]
    [InlineData("cl100k_base")]
    [InlineData("o200k_base")]
    public void Text_round_trips_through_every_tokenizer(string name)
    {
        var t = TokenizerFactory.Create(name);
        foreach (var line in CorpusLines(20))
        {
            var ids = t.Tokenizer.EncodeToIds(line);
            Assert.All(ids, id => Assert.InRange(id, 0, t.VocabSize - 1));
            Assert.Equal(line, t.Tokenizer.Decode(ids));
        }
        var eot = t.Tokenizer is Microsoft.ML.Tokenizers.TiktokenTokenizer tk ? tk.SpecialTokens![BpeTrainer.EndOfText]
            : ((Microsoft.ML.Tokenizers.BpeTokenizer)t.Tokenizer).Vocabulary[BpeTrainer.EndOfText];
        Assert.Equal(eot, t.EndOfText);
    }

    [Fact]
    public void The_trained_bpe_loaded_through_Microsoft_ML_Tokenizers_encodes_exactly_as_its_merges_say()
    {
        using var dir = new TestPaths.TempDir();
        var texts = new PileReader(new[] { RepoPaths.BrownSplit("val") }).Read().Select(r => r.Text).ToList();
        var trainer = new BpeTrainer().Train(texts, 600);
        Assert.Equal(600, trainer.Vocab.Count);
        trainer.Save(dir.Path);
        var loaded = TokenizerFactory.Create("bpe:" + dir.Path);
        Assert.Equal(599, loaded.EndOfText);
        foreach (var line in CorpusLines(30).Append("Ünïcödé — “quotes” and émojis 🙂 too"))
            Assert.Equal(BpeTrainer.Encode(line, trainer.Merges, trainer.Vocab), loaded.Tokenizer.EncodeToIds(line));
    }

    [Fact]
    public void The_bundled_1k_bpe_is_what_train_bpe_makes_from_the_bundled_train_split()
    {
        var texts = new PileReader(new[] { RepoPaths.BrownSplit("train") }).Read().Select(r => r.Text);
        var trainer = new BpeTrainer().Train(texts, 1024);
        var bundled = (Microsoft.ML.Tokenizers.BpeTokenizer)TokenizerFactory.Create("brown-bpe-1k").Tokenizer;
        Assert.Equal(1024, bundled.Vocabulary.Count);
        Assert.All(trainer.Vocab, kv => Assert.Equal(kv.Value, bundled.Vocabulary[kv.Key]));
    }

    [Fact]
    public void Training_is_deterministic_and_merges_the_most_frequent_pair_first()
    {
        var a = new BpeTrainer().Train(new[] { "aaab aaab aaab ab" }, 260);
        var b = new BpeTrainer().Train(new[] { "aaab aaab aaab ab" }, 260);
        Assert.Equal(a.Merges, b.Merges);
        Assert.Equal(("a", "a"), a.Merges[0]);
    }

    [Fact]
    public void Unknown_tokenizers_and_missing_files_say_what_is_wrong()
    {
        var e = Assert.Throws<ArgumentException>(() => TokenizerFactory.Create("gpt2"));
        Assert.Equal("unknown tokenizer 'gpt2'; use brown-bpe, brown-bpe-1k, cl100k_base, o200k_base, bpe:<dir with vocab.json and merges.txt> or sp:<file.model>", e.Message);
        var f = Assert.Throws<FileNotFoundException>(() => TokenizerFactory.Create("bpe:/nonexistent"));
        Assert.Equal("tokenizer bpe:/nonexistent: /nonexistent/vocab.json: no such file", f.Message);
    }
}
