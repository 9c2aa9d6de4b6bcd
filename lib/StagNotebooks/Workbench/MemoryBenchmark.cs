using StagNotebooks.Benchmarks;
using StagNotebooks.Data;
using StagNotebooks.Decoding;
using StagNotebooks.Experiments;
using StagNotebooks.Model;
using StagNotebooks.Reporting;
using StagNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Workbench;

/// <summary>Resident memory (VmRSS) and the tensors alive outside dispose scopes, at one point of a phase.</summary>
public sealed record MemorySample(int At, double ResidentMB, long LiveTensors);

/// <summary>
/// One phase: samples, the peak, and growth after warm-up: (last − the sample at warm-up) ÷ that sample.
/// Target: growth under 5%.
/// </summary>
public sealed record MemoryPhase(string Name, string Unit, IReadOnlyList<MemorySample> Samples, int WarmupAt)
{
    public double PeakMB => Samples.Max(s => s.ResidentMB);
    public double WarmMB => Samples.First(s => s.At >= WarmupAt).ResidentMB;
    public double FinalMB => Samples[^1].ResidentMB;
    public double Growth => (FinalMB - WarmMB) / WarmMB;
}

/// <summary>
/// `stag bench memory`: whether training and the library calls notebook 10 makes grow. Resident memory is read as
/// <see cref="ProcessMemory.ResidentMB"/> reads it (VmRSS; the working set elsewhere), without forcing a collection first, because what a
/// user's process holds is what counts.
/// </summary>
public static class MemoryBenchmark
{
    public static double ResidentMB()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return ProcessMemory.ResidentMB(self) ?? throw new InvalidOperationException("the resident memory of this process could not be read");
    }

    /// <summary>Tensors created outside any dispose scope and not yet disposed (on this thread).</summary>
    public static long LiveTensors()
    {
        var s = DisposeScopeManager.Statistics.TensorStatistics;
        return s.CreatedOutsideScopeCount - s.DisposedOutsideScopeCount;
    }

    static MemorySample Sample(int at) => new(at, ResidentMB(), LiveTensors());

    /// <summary>A <paramref name="steps"/>-step run of <paramref name="preset"/> (separate-2xh) from scratch, sampled every <paramref name="every"/> steps.</summary>
    public static MemoryPhase Training(string preset, int steps, int every, PackedDataset data, string runsRoot, string device, Action<string>? log = null)
    {
        var config = ExperimentRuns.Config(preset, "separate-2xh", data, overrides: new[] { $"MaxSteps={steps}", $"WarmupSteps={Math.Min(steps / 10, 100)}" });
        var samples = new List<MemorySample> { Sample(0) };
        ExperimentRuns.Train(config, "memory-bench", data, runsRoot, p =>
        {
            if (p.Step % every != 0) return;
            samples.Add(Sample(p.Step));
            log?.Invoke($"train step {p.Step,6}: resident {samples[^1].ResidentMB,8:F0} MB, live tensors {samples[^1].LiveTensors}");
        }, device);
        return new MemoryPhase($"train {preset} separate-2xh, {steps} steps", "step", samples, WarmupAt: Math.Max(every, steps / 10));
    }

    /// <summary>
    /// The library calls of notebooks/10-beyond.ipynb, <paramref name="rounds"/> times over, as the notebook makes them
    /// (models loaded and not disposed, prompt tensors left to the collector): TrainAll (reusing runs), Quality,
    /// greedy and speculative generation, DecodeBenchmark.Run at the preset's shape and at equal memory.
    /// </summary>
    public static MemoryPhase NotebookTen(string preset, int rounds, PackedDataset data, string runsRoot, string device, Action<string>? log = null)
    {
        var tokenizer = TokenizerFactory.Create(data.Manifest.Tokenizer).Tokenizer;
        var names = new[] { "baseline-h", "baseline-2h", "separate-2xh", "shared-2xh" };
        // Trained once (short) so that every round reuses them, as notebook 10 does after 03–09.
        foreach (var v in names)
            ExperimentRuns.Train(ExperimentRuns.Config(preset, v, data, overrides: new[] { "MaxSteps=20", "EvalEvery=10", "CheckpointEvery=10" }), v, data, runsRoot, device: device);
        var samples = new List<MemorySample> { Sample(0) };
        for (int round = 1; round <= rounds; round++)
        {
            var models = names.Select(v => new Trained(v, new[] { ExperimentRuns.Train(ExperimentRuns.Config(preset, v, data,
                overrides: new[] { "MaxSteps=20", "EvalEvery=10", "CheckpointEvery=10" }), v, data, runsRoot, device: device) })).ToList();
            EvaluationTables.Quality(models, "val", tokenizer, 8, device);

            var target = ExperimentRuns.LoadModel(models[1].Seeds[0].Run, device: device);
            var draft = ExperimentRuns.LoadModel(models[0].Seeds[0].Run, device: device);
            var test = data.Open("test");
            int newTokens = Math.Min(24, target.Config.MaxContext - 16 - 5);
            for (int i = 0; i < 2; i++)
            {
                var prompt = torch.tensor(test.Read(i * 997 % (test.Count - 20), 16), new long[] { 1, 16 }, device: target.WeightDevice);
                using (var engine = EngineKinds.Create(target, EngineKind.Sequential)) TextGenerator.Generate(engine, prompt, newTokens);
                new SpeculativeDecoder(target, draft, lookahead: 4).Generate(prompt, newTokens);
            }

            var shape = Presets.Config(preset).Model with { VocabSize = data.Manifest.VocabSize };
            var cases = new List<DecodeBenchCase>
            {
                new("baseline-2h", ModelVariants.Apply(shape, "baseline-2h"), EngineKind.Sequential),
                new("separate-2xh", ModelVariants.Apply(shape, "separate-2xh"), EngineKind.Parallel),
                new("shared-2xh", ModelVariants.Apply(shape, "shared-2xh"), EngineKind.Stacked),
                new("shared-2xh", ModelVariants.Apply(shape, "shared-2xh"), EngineKind.Recurrent),
            };
            DecodeBenchmark.Run(cases, new DecodeBenchOptions { Steps = 8, PromptLength = 16, Warmup = 2, Device = device });
            DecodeBenchmark.Run(cases.Take(1).ToList(), new DecodeBenchOptions { Batch = 8, Steps = 4, PromptLength = 16, Warmup = 2, Device = device });
            MemoryReport.For(shape, 8, shape.MaxContext);

            samples.Add(Sample(round));
            log?.Invoke($"notebook-10 round {round,3}: resident {samples[^1].ResidentMB,8:F0} MB, live tensors {samples[^1].LiveTensors}");
        }
        return new MemoryPhase($"notebook-10 library calls at {preset}", "round", samples, WarmupAt: Math.Min(2, rounds));
    }
}
