using StagNotebooks.Decoding;
using StagNotebooks.Model;
using StagNotebooks.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Benchmarks;

/// <summary>The measured timeline of one engine's consecutive decode steps (<see cref="DecodeTimeline"/>).</summary>
/// <param name="Spans">every piece of the recorded steps, µs from the first one's start, steps numbered from 0</param>
public sealed record EngineTimeline(string Label, string Variant, EngineKind Engine, IReadOnlyList<TimelineSpan> Spans)
{
    /// <summary>The median of the whole steps' durations, µs.</summary>
    public double MedianStepUs => DecodeBenchmark.Percentile(Spans.Where(s => s.Lane == StepTimeline.StepLane).Select(s => s.Us).ToList(), 0.5);
}

/// <summary>
/// Which pass waits for which, measured: a few consecutive greedy steps of baseline 2h (one stack of 2h layers, every
/// core on its ops) and of separate 2×h on the thread engine (each stack on its own thread), each piece of a step timed
/// where it runs (<see cref="StepTimeline"/>). Random weights, batch 1, after a warm-up, as `stag bench decode`
/// measures; one engine after the other, so each lane's times are its own run's.
/// </summary>
public static class DecodeTimeline
{
    /// <summary>The timelines of baseline 2h (sequential engine) and separate 2×h (thread engine) at <paramref name="shape"/> (its h layers per stack).</summary>
    public static IReadOnlyList<EngineTimeline> Measure(StagFormerConfig shape, int steps = 6, int warmup = 16, int prompt = 32, string device = "auto")
    {
        var dev = TorchRuntime.ResolveDevice(device);
        return new[]
        {
            Record("baseline 2h", "baseline-2h", EngineKind.Sequential, ModelVariants.Apply(shape, "baseline-2h"), steps, warmup, prompt, dev),
            Record("separate 2×h, a thread per stack", "separate-2xh", EngineKind.Parallel, ModelVariants.Apply(shape, "separate-2xh"), steps, warmup, prompt, dev),
        };
    }

    static EngineTimeline Record(string label, string variant, EngineKind kind, StagFormerConfig config, int steps, int warmup, int prompt, Device device)
    {
        int length = prompt + warmup + steps + 1;
        using var model = new StagFormerModel(config with { MaxContext = Math.Max(config.MaxContext, length) }, seed: 1).to(device);
        model.eval();
        using var engine = EngineKinds.Create(model, kind);
        using var session = engine.Start(1, length);
        using var ng = torch.no_grad();
        using var generator = new Generator(1UL, device);
        using var tokens = torch.randint(0, config.VocabSize, new long[] { 1, prompt }, generator: generator, dtype: ScalarType.Int64, device: device);
        Tensor next;
        using (var prefill = torch.NewDisposeScope()) next = session.Prefill(tokens).select(1, -1).argmax(-1, keepdim: true).MoveToOuterDisposeScope();
        var timeline = new StepTimeline();
        for (int i = 0; i < warmup + steps; i++)
        {
            if (i == warmup) session.Timeline = timeline;
            using var scope = torch.NewDisposeScope();
            var logits = session.Step(next);
            TorchRuntime.Synchronize(device);
            next.Dispose();
            next = logits.argmax(-1, keepdim: true).MoveToOuterDisposeScope();
        }
        session.Timeline = null;
        next.Dispose();
        var spans = timeline.Spans;
        double origin = spans.Min(s => s.StartUs);
        int first = spans.Min(s => s.Step);
        return new EngineTimeline(label, variant, kind, spans.Select(s => s with { Step = s.Step - first, StartUs = s.StartUs - origin, EndUs = s.EndUs - origin }).ToList());
    }
}
