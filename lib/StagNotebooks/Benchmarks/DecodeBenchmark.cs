using StagNotebooks.Decoding;
using StagNotebooks.Model;
using StagNotebooks.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Benchmarks;

/// <summary>One model × engine to time.</summary>
public sealed record DecodeBenchCase(string Variant, StagFormerConfig Config, string Engine);

public sealed record DecodeBenchOptions
{
    public int Batch { get; init; } = 1;
    public int PromptLength { get; init; } = 32;
    public int Steps { get; init; } = 64;
    public int Warmup { get; init; } = 8;
    public string Device { get; init; } = "cpu";
    /// <summary>Weight and KV-cache dtype: float32, or bfloat16 (what a GPU serves with; fp32 master weights cast once).</summary>
    public string Dtype { get; init; } = "float32";
    /// <summary>Variant whose median decode time the others are divided by.</summary>
    public string BaselineVariant { get; init; } = "baseline-2h";
}

/// <summary>Timings of one case. Times in ms; decode per token over the steps after warm-up.</summary>
public sealed record DecodeBenchResult(
    string Variant, string Engine, int Batch, int PromptLength, int Steps,
    double PrefillMs, double DecodeMedianMs, double DecodeP10Ms, double DecodeP90Ms, double TokensPerSecond,
    double RatioToBaseline, bool TokensEqualSequential,
    long WeightBytes, long SelfKvBytes, long CrossKvBytes);

/// <summary>
/// `stag bench decode`: prefill and per-token decode time of every variant and engine, measured in one run, with
/// random weights (they time the same as trained ones). Each engine's greedy tokens are compared with the
/// sequential engine's on the same model.
/// </summary>
public static class DecodeBenchmark
{
    /// <summary>The comparison of the paper's Table 2 at a given shape: baselines h and 2h, separate and shared 2×h.</summary>
    public static IReadOnlyList<DecodeBenchCase> StandardCases(StagFormerConfig shape)
    {
        var h = shape.LayersPerStack;
        var sep = shape with { Stacks = 2, Weights = WeightSharing.Separate };
        var shared = shape with { Stacks = 2, Weights = WeightSharing.Shared };
        return new[]
        {
            new DecodeBenchCase("baseline-h", shape with { Stacks = 1, Weights = WeightSharing.Separate }, "sequential"),
            new DecodeBenchCase("baseline-2h", shape with { Stacks = 1, Weights = WeightSharing.Separate, LayersPerStack = 2 * h }, "sequential"),
            new DecodeBenchCase("separate-2xh", sep, "sequential"),
            new DecodeBenchCase("separate-2xh", sep, "parallel"),
            new DecodeBenchCase("shared-2xh", shared, "sequential"),
            new DecodeBenchCase("shared-2xh", shared, "parallel"),
            new DecodeBenchCase("shared-2xh", shared, "batched"),
            new DecodeBenchCase("shared-2xh", shared, "recurrent"),
        };
    }

    public static IDecodingEngine MakeEngine(StagFormerModel model, string engine) => engine switch
    {
        "sequential" => new SequentialDecoder(model),
        "parallel" => new StaggeredParallelDecoder(model),
        "batched" => new BatchedSharedDecoder(model),
        "recurrent" => new RecurrentDecoder(model, RecurrentPrefill.TwoPass),
        "recurrent-selfprefill" => new RecurrentDecoder(model, RecurrentPrefill.Recurrent),
        _ => throw new ArgumentException($"unknown engine '{engine}' (sequential, parallel, batched, recurrent, recurrent-selfprefill)"),
    };

    public static IReadOnlyList<DecodeBenchResult> Run(IReadOnlyList<DecodeBenchCase> cases, DecodeBenchOptions o, Action<string>? log = null)
    {
        var device = TorchRuntime.ResolveDevice(o.Device);
        var raw = new List<(DecodeBenchCase Case, double Prefill, double[] Steps, bool Equal)>();
        foreach (var group in cases.GroupBy(c => c.Variant))
        {
            var config = group.First().Config with { MaxContext = Math.Max(group.First().Config.MaxContext, o.PromptLength + o.Warmup + o.Steps + 1) };
            using var model = new StagFormerModel(config, seed: 1).to(ParseDtype(o.Dtype)).to(device);
            model.eval();
            using var prompt = torch.randint(0, config.VocabSize, new long[] { o.Batch, o.PromptLength }, dtype: ScalarType.Int64, device: device);
            long[][]? reference = null;
            foreach (var c in group)
            {
                var engine = MakeEngine(model, c.Engine);
                TextGenerator.Generate(engine, prompt, o.Warmup);                                   // warm-up: JIT, allocator, thread start
                var run = TextGenerator.Generate(engine, prompt, o.Warmup + o.Steps + 1);
                reference ??= c.Engine == "sequential" ? run.Tokens : TextGenerator.Generate(new SequentialDecoder(model), prompt, o.Warmup + o.Steps + 1).Tokens;
                bool equal = reference.Zip(run.Tokens).All(p => p.First.SequenceEqual(p.Second));
                var steps = run.StepMs.Skip(o.Warmup).ToArray();
                raw.Add((c, run.PrefillMs, steps, equal));
                log?.Invoke($"{c.Variant,-14} {c.Engine,-22} decode {Percentile(steps, 0.5),8:F3} ms/token  prefill {run.PrefillMs,8:F2} ms  tokens equal: {equal}");
            }
        }
        var baseline = raw.Where(r => r.Case.Variant == o.BaselineVariant).Select(r => Percentile(r.Steps, 0.5)).DefaultIfEmpty(double.NaN).First();
        return raw.Select(r =>
        {
            var mem = MemoryReport.For(r.Case.Config, o.Batch, o.PromptLength + o.Steps + o.Warmup + 1, ParseDtype(o.Dtype) == ScalarType.Float32 ? 4 : 2);
            bool recurrent = r.Case.Engine.StartsWith("recurrent", StringComparison.Ordinal);
            double median = Percentile(r.Steps, 0.5);
            return new DecodeBenchResult(r.Case.Variant, r.Case.Engine, o.Batch, o.PromptLength, r.Steps.Length,
                r.Prefill, median, Percentile(r.Steps, 0.1), Percentile(r.Steps, 0.9), 1000.0 * o.Batch / median,
                median / baseline, r.Equal,
                mem.WeightBytes, recurrent ? mem.SelfKvBytes / 2 : mem.SelfKvBytes, mem.CrossKvBytes);
        }).ToList();
    }

    public static ScalarType ParseDtype(string dtype) => dtype.ToLowerInvariant() switch
    {
        "float32" or "fp32" => ScalarType.Float32,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        "float16" or "fp16" => ScalarType.Float16,
        _ => throw new ArgumentException($"--dtype {dtype}: expected float32, bfloat16 or float16"),
    };

    public static double Percentile(IReadOnlyList<double> xs, double q)
    {
        if (xs.Count == 0) return double.NaN;
        var s = xs.OrderBy(x => x).ToArray();
        double pos = q * (s.Length - 1);
        int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
        return s[lo] + (s[hi] - s[lo]) * (pos - lo);
    }
}
