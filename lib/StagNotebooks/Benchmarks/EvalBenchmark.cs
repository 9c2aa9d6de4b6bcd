using System.Diagnostics;
using StagNotebooks.Data;
using StagNotebooks.Evaluation;
using StagNotebooks.IO;
using StagNotebooks.Model;
using StagNotebooks.Runtime;
using StagNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Benchmarks;

/// <summary>Tokens scored per second, three ways, on one model in one run (ratios are what to read).</summary>
public sealed record EvalBenchResult(string Preset, string Variant, int Documents, long TokensScored,
    double BatchedTokensPerSecond, double OneByOneTokensPerSecond, double TrainingForwardTokensPerSecond)
{
    /// <summary>Batched scoring over the training forward's tokens/s: ≥ 1 means evaluation is no slower per token than training's forward.</summary>
    public double BatchedOverTrainingForward => BatchedTokensPerSecond / TrainingForwardTokensPerSecond;
    public double BatchedOverOneByOne => BatchedTokensPerSecond / OneByOneTokensPerSecond;
}

/// <summary>
/// `stag bench eval`: perplexity scoring of the validation documents, batched (<see cref="TokenScoring.ScoreMany"/>)
/// and one window per forward, beside the training forward (the preset's batch × context, no gradients) on the same
/// model (random weights, seed 1: they time the same as trained ones). Each is timed <c>repeats</c> times after a
/// warm-up, alternating, and the median is kept.
/// </summary>
public static class EvalBenchmark
{
    public static EvalBenchResult Run(string preset, string variant, int maxDocs, int repeats, Device device, Action<string>? log = null)
    {
        var data = PackedDataset.PrepareBundled(Presets.Tokenizer(preset));
        var config = Presets.Config(preset);
        var model = ModelVariants.Apply(config.Model with { VocabSize = data.Manifest.VocabSize }, variant);
        var tokenizer = TokenizerFactory.Create(data.Manifest.Tokenizer).Tokenizer;
        var docs = new PileReader(new[] { RepoPaths.BrownSplit("val") }).Read().Take(maxDocs)
            .Select(r => EvalDocument.FromText(tokenizer, r.Text, r.Subset)).Where(d => d.Tokens.Length >= 2).ToList();
        using var m = new StagFormerModel(model, seed: 1).to(device);
        m.eval();
        var lm = new StagFormerLanguageModel(m);
        long scored = docs.Sum(d => (long)d.Tokens.Length - 1);
        double Batched() => Time(() => new PerplexityEvaluator(lm).Evaluate(docs), device);
        double OneByOne() => Time(() => new PerplexityEvaluator(new OneWindowPerCall(lm)).Evaluate(docs), device);
        using var batch = torch.randint(0, model.VocabSize, new long[] { config.BatchSize, config.ContextLength }, dtype: ScalarType.Int64, device: device);
        double Forward() => Time(() => { using var ng = torch.no_grad(); using var s = torch.NewDisposeScope(); m.forward(new ModelInput(batch)); }, device);
        Batched(); OneByOne(); Forward();   // warm-up: first calls, allocator
        var (b, o, f) = (new List<double>(), new List<double>(), new List<double>());
        for (int r = 0; r < repeats; r++) { b.Add(Batched()); o.Add(OneByOne()); f.Add(Forward()); }
        var result = new EvalBenchResult(preset, variant, docs.Count, scored, scored / DecodeBenchmark.Percentile(b, 0.5),
            scored / DecodeBenchmark.Percentile(o, 0.5), config.BatchSize * (double)config.ContextLength / DecodeBenchmark.Percentile(f, 0.5));
        log?.Invoke($"{variant} at {preset}: {docs.Count} documents, {scored:N0} tokens scored; batched {result.BatchedTokensPerSecond:N0} tok/s, " +
                    $"one window per forward {result.OneByOneTokensPerSecond:N0} tok/s (×{result.BatchedOverOneByOne:F2}), training forward " +
                    $"{result.TrainingForwardTokensPerSecond:N0} tok/s (batched ÷ forward ×{result.BatchedOverTrainingForward:F2})");
        return result;
    }

    static double Time(Action action, Device device)
    {
        var sw = Stopwatch.StartNew();
        action();
        TorchRuntime.Synchronize(device);
        return sw.Elapsed.TotalSeconds;
    }
}
