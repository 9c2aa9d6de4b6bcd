using System.Diagnostics;
using StagNotebooks.Decoding;
using StagNotebooks.Model;
using StagNotebooks.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Benchmarks;

/// <summary>
/// One model × engine to time. <paramref name="CallerThreads"/> = PerStep times the thread engine with the old
/// per-step set_num_threads on the caller: a benchmark case only, to measure the saving ("parallel-perstep").
/// </summary>
public sealed record DecodeBenchCase(string Variant, StagFormerConfig Config, EngineKind Engine, CallerThreadSetting CallerThreads = CallerThreadSetting.PerSession)
{
    bool PerStepThreads => Engine == EngineKind.Parallel && CallerThreads == CallerThreadSetting.PerStep;

    /// <summary>The engine's name in tables: <see cref="EngineKinds.Name"/>, or "parallel-perstep" for the thread ablation.</summary>
    public string EngineName => PerStepThreads ? "parallel-perstep" : Engine.Name();

    public IDecodingEngine MakeEngine(StagFormerModel model) =>
        EngineKinds.Create(model, Engine, new EngineOptions(CallerThreads: PerStepThreads ? CallerThreadSetting.PerStep : CallerThreadSetting.PerSession));
}

public sealed record DecodeBenchOptions
{
    public int Batch { get; init; } = 1;
    public int PromptLength { get; init; } = 32;
    public int Steps { get; init; } = 64;
    public int Warmup { get; init; } = 8;
    /// <summary>Rounds in which every case decodes one block of steps, cases interleaved; the ratio's interval is over rounds.</summary>
    public int Rounds { get; init; } = 8;
    public string Device { get; init; } = "cpu";
    /// <summary>Weight and KV-cache dtype: float32, or bfloat16 (what a GPU serves with; fp32 master weights cast once).</summary>
    public string Dtype { get; init; } = "float32";
    /// <summary>Variant whose median decode time the others are divided by.</summary>
    public string BaselineVariant { get; init; } = "baseline-2h";
}

/// <summary>
/// Timings of one case. Times in ms; decode per token over the steps after warm-up. TokensEqualSequential is null
/// for recurrent decoding: it decodes a different function by design, so its tokens are not expected to match.
/// </summary>
public sealed record DecodeBenchResult(
    string Variant, EngineKind Engine, string EngineName, int Batch, int PromptLength, int Steps,
    double PrefillMs, double DecodeMedianMs, double DecodeP10Ms, double DecodeP90Ms, double TokensPerSecond,
    double RatioToBaseline, bool? TokensEqualSequential,
    long WeightBytes, long SelfKvBytes, long CrossKvBytes,
    long CriticalPathTensors, double BytesReadPerStep, double FlopsPerStep)
{
    /// <summary>Bytes a step must read ÷ its median time: compare with the roofline's GB/s.</summary>
    public double AchievedGBs => BytesReadPerStep / (DecodeMedianMs / 1000) / 1e9;

    /// <summary>The interquartile range of the timed steps (p25, p75).</summary>
    public double DecodeP25Ms { get; init; } = double.NaN;
    public double DecodeP75Ms { get; init; } = double.NaN;

    /// <summary>
    /// The 95% interval of the ratio to the baseline: per round, this case's median step over the baseline's median
    /// step in the same round (interleaved, so a slow phase of the machine hits both), a t-interval of the log ratios
    /// over rounds. NaN with fewer than two rounds.
    /// </summary>
    public double RatioLow { get; init; } = double.NaN;
    public double RatioHigh { get; init; } = double.NaN;
    public int Rounds { get; init; }

    /// <summary>Timed steps slower than p75 + 3 × IQR: pauses of the machine, not of the engine.</summary>
    public int Outliers { get; init; }

    /// <summary>
    /// Too noisy to read as a ratio: more than a tenth of the timed steps are far-out (pauses of the machine). A wide
    /// IQR alone is not noise: a thread engine's steps vary by themselves, and the interval over rounds carries it.
    /// </summary>
    public bool Noisy => Outliers * 10 > Steps;

    /// <summary>The ratio as a chart should plot it: NaN (a gap) when <see cref="Noisy"/>.</summary>
    public double PlottedRatio => Noisy ? double.NaN : RatioToBaseline;

    /// <summary>"0.64 [0.62, 0.66]", with "noisy" appended when the cell is: the ratio as tables print it.</summary>
    public string RatioText => double.IsNaN(RatioLow)
        ? $"{IO.NumberText.Cell(RatioToBaseline)} (1 round: no interval)"
        : $"{IO.NumberText.Cell(RatioToBaseline)} [{IO.NumberText.Cell(RatioLow)}, {IO.NumberText.Cell(RatioHigh)}]{(Noisy ? " noisy" : "")}";
}

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
            new DecodeBenchCase("baseline-h", shape with { Stacks = 1, Weights = WeightSharing.Separate }, EngineKind.Sequential),
            new DecodeBenchCase("baseline-2h", shape with { Stacks = 1, Weights = WeightSharing.Separate, LayersPerStack = 2 * h }, EngineKind.Sequential),
            new DecodeBenchCase("separate-2xh", sep, EngineKind.Sequential),
            new DecodeBenchCase("separate-2xh", sep, EngineKind.Parallel),
            new DecodeBenchCase("separate-2xh", sep, EngineKind.Stacked),
            new DecodeBenchCase("shared-2xh", shared, EngineKind.Sequential),
            new DecodeBenchCase("shared-2xh", shared, EngineKind.Parallel),
            new DecodeBenchCase("shared-2xh", shared, EngineKind.Stacked),
            new DecodeBenchCase("shared-2xh", shared, EngineKind.Recurrent),
        };
    }

    const int BlockWarmup = 2;

    /// <summary>A case's engine (made once) and its timed session; disposing frees both.</summary>
    sealed class Running(DecodeBenchCase c, IDecodingEngine engine, IDecodeSession session) : IDisposable
    {
        public DecodeBenchCase Case { get; } = c;
        public IDecodingEngine Engine { get; } = engine;
        public IDecodeSession Session { get; } = session;
        public Tensor? Next;
        public readonly List<long[]> Tokens = new();
        public readonly List<double> StepMs = new();
        public readonly List<double> RoundMedianMs = new();
        public long CriticalPathTensors;
        public double PrefillMs;
        public void Dispose() { Next?.Dispose(); Session.Dispose(); Engine.Dispose(); }
    }

    /// <summary>
    /// Runs every case side by side: all sessions are prefilled, then in each of a few rounds every session
    /// decodes a block of consecutive greedy steps (rotating order). Ratios come from one run.
    /// </summary>
    public static IReadOnlyList<DecodeBenchResult> Run(IReadOnlyList<DecodeBenchCase> cases, DecodeBenchOptions o, Action<string>? log = null)
    {
        var device = TorchRuntime.ResolveDevice(o.Device);
        var dtype = ParseDtype(o.Dtype);
        if (o.Rounds < 1) throw new ArgumentException($"rounds must be at least 1 (got {o.Rounds})");
        int length = o.PromptLength + o.Warmup + o.Steps + o.Rounds * BlockWarmup + 1;
        var models = new Dictionary<string, StagFormerModel>();
        var running = new List<Running>();
        try
        {
            StartSessions(cases, o.Batch, length, dtype, device, models, running);
            using var prompt = torch.randint(0, cases.Min(c => c.Config.VocabSize), new long[] { o.Batch, o.PromptLength }, dtype: ScalarType.Int64, device: device);
            Prefill(running, prompt, device);
            DecodeInRounds(running, o, device);
            return Summarize(running, o, length, dtype, log);
        }
        finally
        {
            foreach (var r in running) r.Dispose();
            foreach (var m in models.Values) m.Dispose();
        }
    }

    /// <summary>One model per variant (random weights, seed 1, in <paramref name="dtype"/> on the device) and one session per case.</summary>
    static void StartSessions(IReadOnlyList<DecodeBenchCase> cases, int batch, int length, ScalarType dtype, Device device,
                              Dictionary<string, StagFormerModel> models, List<Running> running)
    {
        foreach (var c in cases)
        {
            if (!models.TryGetValue(c.Variant, out var model))
            {
                var config = c.Config with { MaxContext = Math.Max(c.Config.MaxContext, length) };
                models[c.Variant] = model = new StagFormerModel(config, seed: 1).to(dtype).to(device);
                model.eval();
            }
            var engine = c.MakeEngine(model);
            running.Add(new Running(c, engine, engine.Start(batch, length)));
        }
    }

    /// <summary>Warms every engine up outside the timed sessions, then times each session's prefill and takes its first greedy token.</summary>
    static void Prefill(List<Running> running, Tensor prompt, Device device)
    {
        // Warm-up outside the timed sessions: JIT, allocator and first-call costs must not land in the prefill time.
        foreach (var r in running) TextGenerator.Generate(r.Engine, prompt, 2);
        foreach (var r in running)
        {
            var sw = Stopwatch.StartNew();
            using (var scope = torch.NewDisposeScope())
            {
                r.Next = r.Session.Prefill(prompt).select(1, -1).argmax(-1, keepdim: true).MoveToOuterDisposeScope();
                TorchRuntime.Synchronize(device);
            }
            r.PrefillMs = sw.Elapsed.TotalMilliseconds;
        }
    }

    /// <summary>
    /// Each case decodes in blocks of consecutive steps (warm caches, busy worker threads, as in real use); blocks of
    /// all cases alternate over several rounds, so slow phases of the machine hit every case.
    /// </summary>
    static void DecodeInRounds(List<Running> running, DecodeBenchOptions o, Device device)
    {
        int rounds = Math.Max(1, Math.Min(o.Rounds, o.Steps));
        // The thread engine sets the caller's intra-op count once per session, not per step; the sessions here
        // share this thread, so every block starts from the benchmark's own count.
        int threads = torch.get_num_threads();
        for (int round = 0; round < rounds; round++)
            for (int i = 0; i < running.Count; i++)
            {
                var r = running[(i + round) % running.Count];
                int block = o.Steps / rounds + (round < o.Steps % rounds ? 1 : 0);
                int warm = round == 0 ? o.Warmup : BlockWarmup;
                if (torch.get_num_threads() != threads) torch.set_num_threads(threads);
                int before = r.StepMs.Count;
                for (int step = 0; step < warm + block; step++) TimeStep(r, timed: step >= warm, device);
                r.RoundMedianMs.Add(Percentile(r.StepMs.Skip(before).ToList(), 0.5));
            }
    }

    /// <summary>One greedy decode step of a session: its time (kept when <paramref name="timed"/>) and its critical-path tensor count.</summary>
    static void TimeStep(Running r, bool timed, Device device)
    {
        r.Tokens.Add(r.Next!.data<long>().ToArray());
        var stats = DisposeScopeManager.Statistics.TensorStatistics;
        long created = stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount;
        var sw = Stopwatch.StartNew();
        using var scope = torch.NewDisposeScope();
        var next = r.Session.Step(r.Next!).argmax(-1, keepdim: true).MoveToOuterDisposeScope();
        TorchRuntime.Synchronize(device);
        double ms = sw.Elapsed.TotalMilliseconds;
        if (timed) r.StepMs.Add(ms);
        // Tensors created ≈ libtorch calls made: the per-op cost a latency model charges for.
        r.CriticalPathTensors = r.Session is ICriticalPathStatistics cp ? cp.LastStepCriticalPathTensors
            : stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount - created;
        r.Next.Dispose();
        r.Next = next;
    }

    /// <summary>Medians, percentiles, the ratio to the baseline variant, token agreement with the sequential engine, memory and cost per case.</summary>
    static List<DecodeBenchResult> Summarize(List<Running> running, DecodeBenchOptions o, int length, ScalarType dtype, Action<string>? log)
    {
        var baselineRun = running.FirstOrDefault(r => r.Case.Variant == o.BaselineVariant);
        var baseline = baselineRun is null ? double.NaN : Percentile(baselineRun.StepMs, 0.5);
        return running.Select(r =>
        {
            var steps = r.StepMs.ToArray();
            var reference = running.FirstOrDefault(x => x.Case.Variant == r.Case.Variant && x.Case.Engine == EngineKind.Sequential);
            bool recurrent = r.Case.Engine.IsRecurrent();
            bool? equal = recurrent ? null
                : reference != null && reference.Tokens.Zip(r.Tokens).All(p => p.First.SequenceEqual(p.Second));
            int elementBytes = dtype == ScalarType.Float32 ? 4 : 2;
            var mem = MemoryReport.For(r.Case.Config, o.Batch, length, elementBytes);
            double median = Percentile(steps, 0.5);
            int meanContext = o.PromptLength + o.Warmup + o.Steps / 2;
            var cost = DecodeCost.PerStep(r.Case.Config, r.Case.Engine, o.Batch, meanContext, elementBytes);
            var result = new DecodeBenchResult(r.Case.Variant, r.Case.Engine, r.Case.EngineName, o.Batch, o.PromptLength, steps.Length,
                r.PrefillMs, median, Percentile(steps, 0.1), Percentile(steps, 0.9), 1000.0 * o.Batch / median,
                median / baseline, equal, mem.WeightBytes, recurrent ? mem.SelfKvBytes / 2 : mem.SelfKvBytes, mem.CrossKvBytes,
                r.CriticalPathTensors, cost.Bytes, cost.Flops) with
            {
                DecodeP25Ms = Percentile(steps, 0.25), DecodeP75Ms = Percentile(steps, 0.75), Rounds = r.RoundMedianMs.Count,
                Outliers = CountOutliers(steps),
            };
            (double low, double high) = RatioInterval(r.RoundMedianMs, baselineRun?.RoundMedianMs);
            result = result with { RatioLow = low, RatioHigh = high };
            log?.Invoke($"{result.Variant,-14} {result.EngineName,-12} decode {median,8:F3} ms/token  ×{result.RatioText}  prefill {r.PrefillMs,8:F2} ms  calls/step {r.CriticalPathTensors,5}  tokens = sequential: {equal}");
            return result;
        }).ToList();
    }

    /// <summary>Steps beyond p75 + 3 × IQR (Tukey's far-out fence).</summary>
    public static int CountOutliers(IReadOnlyList<double> steps)
    {
        if (steps.Count < 4) return 0;
        double q1 = Percentile(steps, 0.25), q3 = Percentile(steps, 0.75);
        return steps.Count(x => x > q3 + 3 * (q3 - q1));
    }

    /// <summary>
    /// The 95% t-interval of a ratio from paired rounds: exp(mean ± t · sd / √n) of log(case / baseline) per round.
    /// NaN when fewer than two rounds pair up.
    /// </summary>
    public static (double Low, double High) RatioInterval(IReadOnlyList<double> caseRounds, IReadOnlyList<double>? baselineRounds)
    {
        if (baselineRounds is null) return (double.NaN, double.NaN);
        var logs = caseRounds.Zip(baselineRounds, (c, b) => Math.Log(c / b)).Where(double.IsFinite).ToArray();
        if (logs.Length < 2) return (double.NaN, double.NaN);
        double mean = logs.Average(), sd = Math.Sqrt(logs.Sum(x => (x - mean) * (x - mean)) / (logs.Length - 1));
        double half = MathNet.Numerics.Distributions.StudentT.InvCDF(0, 1, logs.Length - 1, 0.975) * sd / Math.Sqrt(logs.Length);
        return (Math.Exp(mean - half), Math.Exp(mean + half));
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
