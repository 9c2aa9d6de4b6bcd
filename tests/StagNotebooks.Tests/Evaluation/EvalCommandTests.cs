using System.Text.Json;
using StagNotebooks.Cli;
using StagNotebooks.Cli.Commands;
using StagNotebooks.Evaluation;
using StagNotebooks.Model;
using StagNotebooks.Tests.Model;

namespace StagNotebooks.Tests.Evaluation;

public class EvalCommandTests
{
    static readonly CharTokenizer Tok = new(" abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.,'?!0123456789");
    static readonly string[] Words = { "river", "garden", "captain", "window", "basket", "engine", "teacher", "painted", "carried", "watched" };

    /// <summary>Pile-format lines, zstd-compressed: six documents in two subsets.</summary>
    static string WriteCorpus(string folder)
    {
        var rng = new Random(9);
        var lines = Enumerable.Range(0, 6).Select(d => JsonSerializer.Serialize(new
        {
            text = string.Join(" ", Enumerable.Range(0, 8).Select(_ => $"The {Words[rng.Next(10)]} of doc{d} {Words[rng.Next(10)]} the {Words[rng.Next(10)]}.")),
            meta = new { pile_set_name = d % 2 == 0 ? "news" : "fiction" },
        }));
        var path = Path.Combine(folder, "test.jsonl.zst");
        using (var file = File.Create(path))
        using (var zstd = new ZstdSharp.CompressionStream(file))
        using (var w = new StreamWriter(zstd)) foreach (var l in lines) w.WriteLine(l);
        return path;
    }

    static CommandLine Args(ICommand c, params string[] a) => CommandLine.Parse(a, c.Switches);

    [Fact]
    public void Build_tasks_then_eval_a_checkpoint_end_to_end()
    {
        using var dir = new TestPaths.TempDir();
        var corpus = WriteCorpus(dir.Path);
        var ckpt = dir.File("ckpt");
        Checkpoint.Save(Variants.Model(Variants.Tiny with { VocabSize = Tok.Alphabet.Length, Stacks = 2, Weights = WeightSharing.Shared }), ckpt);

        var build = new EvalBuildTasksCommand();
        Assert.Equal(0, build.Run(Args(build, "--input", corpus, "--out", dir.File("tasks"), "--max", "5")));

        var eval = new EvalCommand { TokenizerResolver = _ => Tok };
        var outFile = dir.File("results.json");
        Assert.Equal(0, eval.Run(Args(eval, "--checkpoint", ckpt, "--text", corpus, "--tasks", dir.File("tasks") + "/*.jsonl", "--engine", "recurrent",
            "--tokenizer", "chars", "--max-docs", "4", "--prompt", "8", "--generate", "4", "--free-sequences", "2", "--device", "cpu", "--json", "--out", outFile)));

        var r = EvalResults.FromJson(File.ReadAllText(outFile));
        Assert.Equal("recurrent", r.Engine);
        Assert.Equal(new[] { "fiction", "news" }, r.Perplexity!.Subsets.Select(s => s.Subset));
        Assert.Equal(4, r.Perplexity.Overall.Documents);
        Assert.Equal(new[] { "heldout_cloze", "heldout_continuation" }, r.Tasks.Select(t => t.Task));
        Assert.All(r.Tasks, t => Assert.Equal(5, t.Examples));
        var f = r.FreeRunning!;
        Assert.Equal(2, f.Sequences);
        Assert.Equal(2 * (Variants.Tiny.MaxContext - 8), f.Tokens);
        Assert.Equal(f.Tokens, f.Bytes);                                   // one ASCII character per token
        Assert.True(Math.Abs(f.Loss - f.TeacherForcedLoss!.Value) > 1e-3, "recurrent free-running loss should differ from teacher forcing");
    }

    [Fact]
    public void A_bad_task_line_is_a_command_line_error_naming_file_and_line()
    {
        using var dir = new TestPaths.TempDir();
        var ckpt = dir.File("ckpt");
        Checkpoint.Save(Variants.Model(Variants.Tiny with { VocabSize = Tok.Alphabet.Length }), ckpt);
        var task = dir.File("wino.jsonl");
        File.WriteAllLines(task, new[] { """{"sentence": "a _ b", "option1": "x", "option2": "y", "answer": "1"}""", """{"sentence": "no blank", "option1": "x", "option2": "y", "answer": "1"}""" });
        var eval = new EvalCommand { TokenizerResolver = _ => Tok };
        var e = Assert.Throws<CliException>(() => eval.Run(Args(eval, "--checkpoint", ckpt, "--tasks", task, "--tokenizer", "chars", "--device", "cpu", "--json")));
        Assert.Equal($"{task}:2: field 'sentence' has no blank '_'", e.Message);
    }

    [Fact]
    public void Without_tokenizer_eval_picks_the_bundled_bpe_of_the_models_vocabulary_and_refuses_a_bundled_one_of_another_size()
    {
        using var dir = new TestPaths.TempDir();
        var corpus = WriteCorpus(dir.Path);
        var ckpt = dir.File("ckpt");
        Checkpoint.Save(Variants.Model(Variants.Tiny with { VocabSize = 1024 }), ckpt);
        var eval = new EvalCommand();
        var outFile = dir.File("results.json");
        Assert.Equal(0, eval.Run(Args(eval, "--checkpoint", ckpt, "--text", corpus, "--max-docs", "1", "--prompt", "8", "--generate", "4", "--free-sequences", "1", "--device", "cpu", "--json", "--out", outFile)));
        Assert.Equal("brown-bpe-1k", EvalResults.FromJson(File.ReadAllText(outFile)).Tokenizer);
        var e = Assert.Throws<CliException>(() => eval.Run(Args(eval, "--checkpoint", ckpt, "--text", corpus, "--tokenizer", "brown-bpe", "--device", "cpu", "--json")));
        Assert.Equal($"--tokenizer brown-bpe has 4096 tokens, but the model in {ckpt} has a vocabulary of 1024: pass the tokenizer it was trained with", e.Message);
        var odd = dir.File("odd");
        Checkpoint.Save(Variants.Model(Variants.Tiny with { VocabSize = 77 }), odd);
        e = Assert.Throws<CliException>(() => eval.Run(Args(eval, "--checkpoint", odd, "--text", corpus, "--device", "cpu", "--json")));
        Assert.Equal($"{odd}: the model's vocabulary is 77 and no bundled tokenizer has that size; pass --tokenizer", e.Message);
    }
}
