using StagNotebooks.Benchmarks;
using StagNotebooks.Decoding;
using StagNotebooks.Model;
using StagNotebooks.Reporting;

namespace StagNotebooks.Tests.Benchmarks;

public class DecodeTimelineTests
{
    [Fact]
    public void Each_pass_starts_after_the_embedding_and_the_head_waits_for_every_stack()
    {
        var timelines = DecodeTimeline.Measure(ModelShapes.Get("tiny-baseline"), steps: 4, warmup: 2, prompt: 8, device: "cpu");
        Assert.Equal(new[] { ("baseline-2h", EngineKind.Sequential), ("separate-2xh", EngineKind.Parallel) }, timelines.Select(t => (t.Variant, t.Engine)));

        var baseline = timelines[0].Spans;
        Assert.Equal(new[] { StepTimeline.StepLane }, baseline.Select(s => s.Lane).Distinct());
        Assert.Equal(new[] { 0, 1, 2, 3 }, baseline.Select(s => s.Step));
        Assert.Equal(0, baseline[0].StartUs);

        var parallel = timelines[1].Spans;
        Assert.Equal(new[] { "caller thread", StepTimeline.StepLane, "worker thread 1" }, parallel.Select(s => s.Lane).Distinct().Order(StringComparer.Ordinal));
        foreach (var step in parallel.GroupBy(s => s.Step))
        {
            TimelineSpan Piece(string work) => step.Single(s => s.Work == work);
            var (whole, embed, one, two, head) = (Piece("step"), Piece("embed"), Piece("stack 1"), Piece("stack 2"), Piece("combine + head"));
            Assert.Equal(("caller thread", "worker thread 1"), (one.Lane, two.Lane));
            // Staggering: stack 2 needs stack 1 only at earlier positions, so both start once the token is embedded;
            // the head needs both stacks' outputs; all of it inside the step.
            Assert.True(whole.StartUs <= embed.StartUs && embed.EndUs <= one.StartUs && embed.EndUs <= two.StartUs, $"step {step.Key}: a stack started before the embedding ended");
            Assert.True(one.EndUs <= head.StartUs && two.EndUs <= head.StartUs, $"step {step.Key}: the head started before a stack ended");
            Assert.True(head.EndUs <= whole.EndUs, $"step {step.Key}: the head ended after the step");
        }

        var table = DecodeTimelineReport.Table(timelines);
        Assert.Equal(new[] { "n/a", "n/a" }, new[] { (string)table.Columns["stack 1 µs"][0], (string)table.Columns["caller waits for stack 2 µs"][0] });
        Assert.NotEqual("n/a", (string)table.Columns["caller waits for stack 2 µs"][1]);
        var chart = DecodeTimelineReport.Chart(timelines);
        Assert.Equal(4, chart.Layout["yaxis"]!["categoryarray"]!.AsArray().Count);   // baseline's steps, then the parallel engine's steps and its two threads
    }

    [Fact]
    public void A_session_records_nothing_without_a_timeline_and_stops_when_it_is_unset()
    {
        using var model = new StagFormerModel(ModelVariants.Apply(ModelShapes.Get("tiny-baseline"), "separate-2xh"), seed: 1);
        using var engine = EngineKinds.Create(model, EngineKind.Parallel);
        using var session = engine.Start(1, 8);
        using var token = TorchSharp.torch.zeros(new long[] { 1, 1 }, TorchSharp.torch.ScalarType.Int64);
        session.Step(token).Dispose();
        var timeline = new StepTimeline();
        session.Timeline = timeline;
        session.Step(token).Dispose();
        session.Timeline = null;
        session.Step(token).Dispose();
        Assert.Equal(new[] { 1 }, timeline.Spans.Select(s => s.Step).Distinct());
        Assert.Equal(5, timeline.Spans.Count);   // the step, the embedding, two stacks, combine + head
    }
}
