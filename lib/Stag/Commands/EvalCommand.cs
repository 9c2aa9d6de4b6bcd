using System.Text;
using Microsoft.ML.Tokenizers;
using Spectre.Console;
using StagNotebooks.Decoding;
using StagNotebooks.Evaluation;
using StagNotebooks.IO;
using StagNotebooks.Model;
using StagNotebooks.Runtime;

namespace StagNotebooks.Cli.Commands;

public sealed class EvalCommand : ICommand
{
    public string Name => "eval";
    public string Summary => "perplexity / bits per byte, few-shot tasks and free-running (engine-state) evaluation of a checkpoint";
    public string Usage => """
        stag eval --checkpoint <dir> [--text data/brown/test.jsonl.zst] [--tasks data/tasks/*.jsonl ...]
                  [--tokenizer brown-bpe|brown-bpe-1k|cl100k_base|o200k_base|bpe:<dir>|sp:<file.model>] [--bos ID]
                  [--engine sequential|parallel|stacked|recurrent|recurrent-selfprefill]
                  [--max-docs 200] [--stride N] [--shots 0] [--seed 1234] [--max-examples N]
                  [--prompt 16] [--generate 32] [--free-sequences 16]
                  [--device auto|cpu|cuda] [--threads N] [--json] [--out results.json]

          --checkpoint      a checkpoint folder, a pointer (runs/<run>/checkpoints/best or last), or a run folder
                            (runs/<run>: its last checkpoint)
          --text            Pile-format jsonl(.zst): teacher-forced perplexity and bits per byte per pile_set_name,
                            then free-running evaluation of the same documents with --engine
          --tasks           task files (HellaSwag, ARC, PIQA, WinoGrande or LAMBADA layout, detected per file);
                            repeat the option, or list files after it
          --tokenizer       default: the bundled BPE with the model's vocabulary (brown-bpe 4096, brown-bpe-1k 1024)
          --bos             token id put before every document and request (so the first token is scored too)
          --stride          sliding-window stride for documents longer than the context (default: half of it)
          --prompt          free-running: tokens prefilled before scoring, and greedy-continuation prompt length
          --generate        free-running: tokens generated greedily and compared with the text
          --free-sequences  free-running: pieces of text scored step by step (one engine step per token)
        """;
    public IEnumerable<string> Switches => new[] { "json" };

    /// <summary>Turns --tokenizer into a tokenizer (TokenizerFactory); tests plug in small hand-made ones.</summary>
    public Func<string, Tokenizer> TokenizerResolver { get; init; } = spec => StagNotebooks.Data.TokenizerFactory.Create(spec).Tokenizer;

    /// <summary>What `stag eval` was asked for, read from the command line.</summary>
    sealed record EvalRequest(
        string Checkpoint, string? Text, IReadOnlyList<string> TaskFiles, string? TokenizerSpec, EngineKind Engine, int? Bos,
        int MaxDocs, int? Stride, ScorerOptions Scorer, int Prompt, int Generate, int FreeSequences, string DeviceSpec, bool Json, string? OutPath);

    public int Run(CommandLine args)
    {
        var request = Read(args);
        try
        {
            var results = Evaluate(request);
            if (request.OutPath != null) AtomicFile.WriteAllText(request.OutPath, results.ToJson());
            if (request.Json) Console.WriteLine(results.ToJson());
            else Print(results);
            return 0;
        }
        catch (Exception e) when (e is TaskFormatException or CheckpointException or ConfigException or ArgumentException or FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CliException(e.Message);
        }
    }

    /// <summary>
    /// --tokenizer, or the bundled BPE whose vocabulary is the model's. A bundled tokenizer of another size is refused:
    /// its ids would index the wrong rows of the embedding without failing.
    /// </summary>
    static string TokenizerSpecFor(EvalRequest r, int modelVocab)
    {
        if (r.TokenizerSpec is null)
            return StagNotebooks.Data.TokenizerFactory.Bundled.FirstOrDefault(t => StagNotebooks.Data.TokenizerFactory.Create(t).VocabSize == modelVocab)
                ?? throw new ArgumentException($"{r.Checkpoint}: the model's vocabulary is {modelVocab} and no bundled tokenizer has that size; pass --tokenizer");
        if (StagNotebooks.Data.TokenizerFactory.BuiltIn.Contains(r.TokenizerSpec)
            && StagNotebooks.Data.TokenizerFactory.Create(r.TokenizerSpec).VocabSize is var size && size != modelVocab)
            throw new ArgumentException($"--tokenizer {r.TokenizerSpec} has {size} tokens, but the model in {r.Checkpoint} has a vocabulary of {modelVocab}: pass the tokenizer it was trained with");
        return r.TokenizerSpec;
    }

    static EvalRequest Read(CommandLine args)
    {
        var checkpoint = args.Get("checkpoint") ?? throw new CliException("--checkpoint is required");
        var text = args.Get("text");
        var taskFiles = args.All("tasks").Concat(args.Positional).SelectMany(ExpandGlob).ToList();
        var tokenizerSpec = args.Get("tokenizer");
        var engineName = args.Get("engine", "sequential");
        int? bos = args.Has("bos") ? args.GetInt("bos", 0) : null;
        int maxDocs = args.GetInt("max-docs", 200);
        int? stride = args.Has("stride") ? args.GetInt("stride", 1) : null;
        var scorer = new ScorerOptions
        {
            Shots = args.GetInt("shots", 0), Seed = args.GetInt("seed", 1234), BosToken = bos,
            MaxExamples = args.Has("max-examples") ? args.GetInt("max-examples", 0) : null,
        };
        int prompt = args.GetInt("prompt", 16), generate = args.GetInt("generate", 32), freeSequences = args.GetInt("free-sequences", 16);
        var deviceSpec = args.Get("device", "auto");
        bool json = args.Flag("json");
        var outPath = args.Get("out");
        CommonOptions.ApplyThreads(args);
        args.RejectUnknown();
        if (text is null && taskFiles.Count == 0) throw new CliException("nothing to evaluate: give --text and/or --tasks");
        EngineKind engine;
        try { engine = EngineKinds.Parse(engineName); }
        catch (ArgumentException e) { throw new CliException(e.Message); }
        return new EvalRequest(checkpoint, text, taskFiles, tokenizerSpec, engine, bos, maxDocs, stride, scorer, prompt, generate, freeSequences, deviceSpec, json, outPath);
    }

    EvalResults Evaluate(EvalRequest r)
    {
        var device = TorchRuntime.ResolveDevice(r.DeviceSpec);
        var model = Checkpoint.Load(r.Checkpoint, device);
        model.eval();
        var tokenizerSpec = TokenizerSpecFor(r, model.Config.VocabSize);
        var tokenizer = TokenizerResolver(tokenizerSpec);
        using var engine = EngineKinds.Create(model, r.Engine);
        var lm = new StagFormerLanguageModel(model, device);
        void Log(string line) { if (!r.Json) Console.Error.WriteLine(line); }

        PerplexityReport? perplexity = null;
        FreeRunningResult? freeRunning = null;
        if (r.Text != null)
        {
            var docs = new StagNotebooks.Data.PileReader(new[] { r.Text }).Read().Take(r.MaxDocs).Select(d => EvalDocument.FromText(tokenizer, d.Text, d.Subset, r.Bos)).ToList();
            Log($"perplexity: {docs.Count} documents, {docs.Sum(d => (long)d.Tokens.Length)} tokens");
            perplexity = new PerplexityEvaluator(lm, r.Stride).Evaluate(docs);
            Log($"free-running ({engine.Name}): up to {r.FreeSequences} pieces of {model.Config.MaxContext} tokens");
            freeRunning = EvaluateFreeRunning(r, engine, docs, tokenizer, lm, model.Config.MaxContext, device);
        }
        var tasks = ScoreTasks(r, tokenizer, lm, Log);
        return new EvalResults(r.Checkpoint, engine.Name, tokenizerSpec, perplexity, tasks, freeRunning);
    }

    static FreeRunningResult EvaluateFreeRunning(EvalRequest r, IDecodingEngine engine, IReadOnlyList<EvalDocument> docs, Tokenizer tokenizer,
                                                 StagFormerLanguageModel lm, int maxContext, TorchSharp.torch.Device device)
    {
        var options = new FreeRunningOptions
        {
            PromptTokens = r.Prompt, GenerateTokens = r.Generate, MaxSequenceLength = maxContext, MaxSequences = r.FreeSequences, Device = device,
        };
        return FreeRunningEvaluator.Evaluate(engine, docs.Select(d => d.Tokens), options,
            ids => Encoding.UTF8.GetByteCount(tokenizer.Decode(ids.Where(i => i != r.Bos).Select(i => (int)i)) ?? ""), lm);
    }

    static List<TaskResult> ScoreTasks(EvalRequest r, Tokenizer tokenizer, StagFormerLanguageModel lm, Action<string> log)
    {
        var tasks = new List<TaskResult>();
        foreach (var file in r.TaskFiles)
        {
            var task = TaskReaders.Read(file);
            log($"task {task.Name} ({task.Format}): {Math.Min(task.Examples.Count, r.Scorer.MaxExamples ?? int.MaxValue)} examples, {r.Scorer.Shots}-shot");
            tasks.Add(new MultipleChoiceScorer(lm, tokenizer, r.Scorer).Score(task));
        }
        return tasks;
    }

    // A quoted pattern like "data/tasks/*.jsonl" reaches us unexpanded.
    static IEnumerable<string> ExpandGlob(string path)
    {
        var name = Path.GetFileName(path);
        if (!name.Contains('*') && !name.Contains('?')) return new[] { path };
        var dir = Path.GetDirectoryName(path) is { Length: > 0 } d ? d : ".";
        var matches = Directory.Exists(dir) ? Directory.GetFiles(dir, name).Order(StringComparer.Ordinal).ToArray() : Array.Empty<string>();
        return matches.Length > 0 ? matches : throw new CliException($"--tasks {path}: no file matches");
    }

    static void Print(EvalResults r)
    {
        if (r.Perplexity is { } p)
        {
            var t = new Table().Border(TableBorder.Rounded).Title("teacher-forced perplexity");
            foreach (var col in new[] { "subset", "docs", "tokens", "bytes", "loss", "perplexity", "bits/byte" }) t.AddColumn(col);
            foreach (var s in p.Subsets.Append(p.Overall))
                t.AddRow(Markup.Escape(s.Subset), $"{s.Documents}", $"{s.Tokens}", $"{s.Bytes}", $"{s.Loss:F4}", $"{s.Perplexity:F2}", $"{s.BitsPerByte:F4}");
            AnsiConsole.Write(t);
        }
        if (r.Tasks.Count > 0)
        {
            var t = new Table().Border(TableBorder.Rounded).Title("tasks");
            foreach (var col in new[] { "task", "format", "examples", "shots", "acc", "acc_norm", "perplexity" }) t.AddColumn(col);
            foreach (var x in r.Tasks)
                t.AddRow(Markup.Escape(x.Task), $"{x.Format}", $"{x.Examples}", $"{x.Shots}", $"{x.Accuracy:F4}", x.AccuracyNorm is double n ? $"{n:F4}" : "–", x.Perplexity is double q ? $"{q:F2}" : "–");
            AnsiConsole.Write(t);
        }
        if (r.FreeRunning is { } f)
        {
            var t = new Table().Border(TableBorder.Rounded).Title($"free-running ({Markup.Escape(f.Engine)})");
            foreach (var col in new[] { "pieces", "tokens", "loss", "teacher-forced loss", "perplexity", "bits/byte", "greedy match", "matched prefix" }) t.AddColumn(col);
            t.AddRow($"{f.Sequences}", $"{f.Tokens}", $"{f.Loss:F4}", f.TeacherForcedLoss is double tf ? $"{tf:F4}" : "–", $"{f.Perplexity:F2}",
                f.BitsPerByte is double b ? $"{b:F4}" : "–", $"{f.GreedyTokenMatch:P1} of {f.GreedyPrompts}×{f.GreedyTokensPerPrompt}", $"{f.GreedyMeanMatchedPrefix:F2}");
            AnsiConsole.Write(t);
        }
    }
}
