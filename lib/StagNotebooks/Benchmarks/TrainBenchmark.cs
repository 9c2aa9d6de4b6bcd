using System.Diagnostics;
using StagNotebooks.Data;
using StagNotebooks.Model;
using StagNotebooks.Runtime;
using StagNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Benchmarks;

/// <summary>Uniform random tokens: training speed does not depend on what the tokens say.</summary>
public sealed class RandomTokenBatches(int vocab, long seed) : IBatchSource
{
    public (Tensor Inputs, Tensor Targets) Batch(long index, int batchSize, int contextLength, Device device)
    {
        using var g = new Generator((ulong)(seed * 1_000_003 + index), device);
        var all = torch.randint(0, vocab, new long[] { batchSize, contextLength + 1 }, generator: g, dtype: ScalarType.Int64, device: device);
        return (all.narrow(1, 0, contextLength), all.narrow(1, 1, contextLength));
    }
}

public sealed record TrainBenchResult(
    string Variant, string Preset, int Steps, double StepMedianMs, double TokensPerSecond, double Mfu, double RatioToBaseline,
    long ResidentBytesEarly, long ResidentBytesLate, int EarlyStep, double ResidentGrowth);

/// <summary>
/// `stag bench train`: step time, tokens/s and MFU per variant at a preset, and resident memory early and late in
/// the run (a leak shows as growth). All variants train on the same random batches; ratios come from one run.
/// </summary>
public static class TrainBenchmark
{
    public static IReadOnlyList<TrainBenchResult> Run(string preset, IReadOnlyList<string> variants, int steps, int earlyStep, Device device,
                                                       double peakGflops, int? vocabSize = null, Action<string>? log = null)
    {
        // The preset's own vocabulary: the unembedding and softmax are most of a small model's CPU step.
        int vocab = vocabSize ?? TokenizerFactory.Create(Presets.Tokenizer(preset)).VocabSize;
        var results = new List<(string Variant, double Median, double Tps, double Mfu, long Early, long Late)>();
        foreach (var variant in variants)
        {
            var basePreset = Presets.Config(preset);
            var c = basePreset with { Model = ModelVariants.Apply(basePreset.Model with { VocabSize = vocab }, variant), MaxSteps = steps };
            using var model = new StagFormerModel(c.Model, c.Seed).to(device);
            model.train();
            var decay = model.parameters().ToArray();
            using var opt = torch.optim.AdamW(decay, c.LearningRate, c.Beta1, c.Beta2, 1e-8, c.WeightDecay);
            var source = new RandomTokenBatches(vocab, 7);
            var times = new List<double>();
            long early = 0, late = 0;
            for (int step = 0; step < steps; step++)
            {
                var sw = Stopwatch.StartNew();
                using (var scope = torch.NewDisposeScope())
                {
                    opt.zero_grad();
                    var (x, y) = source.Batch(step, c.BatchSize, c.ContextLength, device);
                    var logits = model.forward(new ModelInput(x)).Logits;
                    var loss = nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), y.reshape(-1));
                    loss.backward();
                    nn.utils.clip_grad_norm_(decay, c.GradClip);
                    opt.step();
                    loss.item<float>();   // the host waits for the step, as the trainer does
                }
                TorchRuntime.Synchronize(device);
                times.Add(sw.Elapsed.TotalMilliseconds);
                if (step + 1 == earlyStep) early = Resident();
            }
            late = Resident();
            var steady = times.Skip(Math.Min(5, times.Count / 2)).ToList();
            double median = DecodeBenchmark.Percentile(steady, 0.5);
            double tps = c.BatchSize * (double)c.ContextLength / (median / 1000);
            double mfu = FlopCounter.TrainingFlopsPerToken(c.Model, c.ContextLength) * tps / (peakGflops * 1e9);
            results.Add((variant, median, tps, mfu, early, late));
            log?.Invoke($"{variant,-14} step {median,8:F1} ms  {tps,9:F0} tokens/s  MFU {mfu:P1}  resident {early / 1e6:F0} → {late / 1e6:F0} MB");
        }
        double baseline = results.FirstOrDefault(r => r.Variant == "baseline-2h").Median;
        return results.Select(r => new TrainBenchResult(r.Variant, preset, steps, r.Median, r.Tps, r.Mfu, r.Median / baseline,
            r.Early, r.Late, earlyStep, r.Early > 0 ? (double)(r.Late - r.Early) / r.Early : double.NaN)).ToList();
    }

    static long Resident()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var p = Process.GetCurrentProcess();
        p.Refresh();
        return p.WorkingSet64;
    }
}
