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
/// <param name="BatchedOverForwardPerRepeat">per repeat: batched tokens/s over the training forward's in that same repeat (the spread a shared machine leaves)</param>
public sealed record EvalBenchResult(string Preset, string Variant, int Documents, long TokensScored,
    double BatchedTokensPerSecond, double OneByOneTokensPerSecond, double TrainingForwardTokensPerSecond)
{
    /// <summary>Batched scoring over the training forward's tokens/s: ≥ 1 means evaluation is no slower per token than training's forward.</summary>
    public double BatchedOverTrainingForward => BatchedTokensPerSecond / TrainingForwardTokensPerSecond;
    public double BatchedOverOneByOne => BatchedTokensPerSecond / OneByOneTokensPerSecond;
    public IReadOnlyList<double> BatchedOverForwardPerRepeat { get; init; } = Array.Empty<double>();
    /// <summary>The trainer's forward: train mode, gradients recorded, logits and the cross-entropy loss (no backward).</summary>
    public double TrainerForwardTokensPerSecond { get; init; } = double.NaN;
    public double BatchedOverTrainerForward => BatchedTokensPerSecond / TrainerForwardTokensPerSecond;
    public IReadOnlyList<double> BatchedOverTrainerForwardPerRepeat { get; init; } = Array.Empty<double>();
    public EvalSpread Spread { get; init; } = new(double.NaN, double.NaN, double.NaN, double.NaN);
    /// <summary>Positions the scorers' forwards read per scored token (sliding windows overlap: about MaxContext / stride for long documents).</summary>
    public double PositionsPerScoredToken { get; init; } = double.NaN;
    /// <summary>Logits per batched call (<see cref="TokenScoring.ScoreMany"/>'s budget).</summary>
    public long BatchElements { get; init; } = TokenScoring.DefaultBatchElements;
}

/// <summary>Per way of scoring: (max − min) / median of its repeats' times.</summary>
public sealed record EvalSpread(double Batched, double OneByOne, double Forward, double TrainerForward);

/// <summary>
/// `stag bench eval`: perplexity scoring of the validation documents, batched (<see cref="TokenScoring.ScoreMany"/>)
/// and one window per forward, beside the training forward (the preset's batch × context, no gradients, no loss; as many forwards as
/// carry the scored tokens) on the same model (random weights, seed 1: they time the same as trained ones). Each is timed <c>repeats</c> times
/// after a warm-up, interleaved (batched, one by one, forward in every repeat), and the median is kept.
/// </summary>
public static class EvalBenchmark
{
    public static EvalBenchResult Run(string preset, string variant, int maxDocs, int repeats, Device device, Action<string>? log = null,
        long batchElements = TokenScoring.DefaultBatchElements)
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
        double Batched() => Time(() => new PerplexityEvaluator(lm, batchElements: batchElements).Evaluate(docs), device);
        double OneByOne() => Time(() => new PerplexityEvaluator(new OneWindowPerCall(lm)).Evaluate(docs), device);
        using var batch = torch.randint(0, model.VocabSize, new long[] { config.BatchSize, config.ContextLength }, dtype: ScalarType.Int64, device: device);
        // as many training forwards as carry the scored tokens: a timing as long as the scorers', so noise weighs alike
        int forwards = (int)Math.Max(1, scored / (config.BatchSize * (long)config.ContextLength));
        double Forward() => Time(() => { using var ng = torch.no_grad(); for (int i = 0; i < forwards; i++) { using var s = torch.NewDisposeScope(); m.forward(new ModelInput(batch)); } }, device);
        using var targets = torch.randint(0, model.VocabSize, new long[] { config.BatchSize * config.ContextLength }, dtype: ScalarType.Int64, device: device);
        double Trainer() => Time(() => TrainerForwards(m, batch, targets, forwards), device);
        Batched(); OneByOne(); Forward(); Trainer();   // warm-up: first calls, allocator
        var (b, o, f, t) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
        for (int r = 0; r < repeats; r++) { b.Add(Batched()); o.Add(OneByOne()); f.Add(Forward()); t.Add(Trainer()); }
        double forwardTokens = forwards * (double)config.BatchSize * config.ContextLength;
        var result = new EvalBenchResult(preset, variant, docs.Count, scored, scored / Median(b), scored / Median(o), forwardTokens / Median(f))
        {
            BatchedOverForwardPerRepeat = b.Zip(f, (bs, fs) => fs / bs * scored / forwardTokens).ToList(),
            TrainerForwardTokensPerSecond = forwardTokens / Median(t),
            BatchedOverTrainerForwardPerRepeat = b.Zip(t, (bs, ts) => ts / bs * scored / forwardTokens).ToList(),
            Spread = new EvalSpread(Spread(b), Spread(o), Spread(f), Spread(t)),
            BatchElements = batchElements,
            PositionsPerScoredToken = docs.Sum(d => TokenScoring.Plan(d.Tokens.Length, 1, lm.MaxContext, TokenScoring.DefaultStride(lm.MaxContext))
                .Sum(w => (double)(w.InputEnd - w.InputStart))) / scored,
        };
        log?.Invoke(Describe(result));
        return result;
    }

    public static string Describe(EvalBenchResult r)
    {
        var perRepeat = r.BatchedOverForwardPerRepeat;
        return $"{r.Variant} at {r.Preset}: {r.Documents} documents, {r.TokensScored:N0} tokens scored, {perRepeat.Count} interleaved repeats " +
               $"(median; spread = (max − min) / median of the times); the scorers' windows read {r.PositionsPerScoredToken:F2} positions per scored token\n" +
               $"  batched ({r.BatchElements:N0} logits per call)     {r.BatchedTokensPerSecond,10:N0} tok/s  spread {r.Spread.Batched:P0}\n" +
               $"  one window per forward           {r.OneByOneTokensPerSecond,10:N0} tok/s  spread {r.Spread.OneByOne:P0}  (batched ×{r.BatchedOverOneByOne:F2})\n" +
               $"  forward alone (no grad, no loss) {r.TrainingForwardTokensPerSecond,10:N0} tok/s  spread {r.Spread.Forward:P0}\n" +
               $"  trainer's forward (grad, loss)   {r.TrainerForwardTokensPerSecond,10:N0} tok/s  spread {r.Spread.TrainerForward:P0}\n" +
               $"  batched ÷ forward alone ×{r.BatchedOverTrainingForward:F2} (medians); per repeat {Range(perRepeat)}\n" +
               $"  batched ÷ trainer's forward ×{r.BatchedOverTrainerForward:F2} (medians); per repeat {Range(r.BatchedOverTrainerForwardPerRepeat)}";
    }

    static string Range(IReadOnlyList<double> xs) => $"median ×{Median(xs):F2}, range ×{xs.Min():F2}–×{xs.Max():F2}";

    /// <summary>The trainer's forward <paramref name="count"/> times (Trainer.Step up to the backward): train mode, grad on, (B, T, V) logits, mean cross-entropy, its value read.</summary>
    static void TrainerForwards(StagFormerModel m, Tensor batch, Tensor targets, int count)
    {
        m.train();
        try
        {
            using var grad = torch.enable_grad();
            for (int i = 0; i < count; i++)
            {
                using var s = torch.NewDisposeScope();
                var logits = m.forward(new ModelInput(batch)).Logits;                                       // (B, T, V)
                nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), targets).item<float>();
            }
        }
        finally { m.eval(); }
    }

    static double Median(IReadOnlyList<double> xs) => DecodeBenchmark.Percentile(xs, 0.5);
    static double Spread(IReadOnlyList<double> xs) => (xs.Max() - xs.Min()) / Median(xs);

    static double Time(Action action, Device device)
    {
        var sw = Stopwatch.StartNew();
        action();
        TorchRuntime.Synchronize(device);
        return sw.Elapsed.TotalSeconds;
    }
}
