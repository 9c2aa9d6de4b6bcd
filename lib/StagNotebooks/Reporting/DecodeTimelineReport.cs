using System.Globalization;
using Microsoft.Data.Analysis;
using StagNotebooks.Benchmarks;
using StagNotebooks.Decoding;

namespace StagNotebooks.Reporting;

/// <summary>The decode timeline (<see cref="DecodeTimeline"/>) as a picture and as the numbers a walkthrough quotes.</summary>
public static class DecodeTimelineReport
{
    static readonly IReadOnlyDictionary<string, string> Colors = new Dictionary<string, string>
    {
        ["step"] = "#a0aec0", ["embed"] = "#d69e2e", ["stack 1"] = "#3182ce", ["stack 2"] = "#dd6b20",
        ["stack 3"] = "#805ad5", ["stack 4"] = "#d53f8c", ["combine + head"] = "#38a169",
    };

    /// <summary>Each engine's lanes (whole steps first, then its threads), every piece of every recorded step a bar.</summary>
    public static Figure Chart(IReadOnlyList<EngineTimeline> timelines)
    {
        var lanes = timelines.SelectMany(t => t.Spans.Select(s => s.Lane).Distinct()
            .OrderBy(l => l == StepTimeline.StepLane ? 0 : 1).ThenBy(l => l, StringComparer.Ordinal).Select(l => $"{t.Label} · {l}")).ToList();
        var bars = timelines.SelectMany(t => t.Spans.Select(s => new TimelineBar($"{t.Label} · {s.Lane}", s.Work, s.StartUs, s.EndUs,
            string.Create(CultureInfo.InvariantCulture, $"{t.Label}, step {s.Step}: {s.Work}, {s.StartUs:F0}–{s.EndUs:F0} µs ({s.Us:F0} µs)"))));
        int steps = timelines.Count == 0 ? 0 : timelines.Min(t => t.Spans.Select(s => s.Step).Distinct().Count());
        return Charts.Timeline($"Which pass waits for which: {steps} consecutive decode steps per engine, measured (batch 1)",
            "µs since the engine's first recorded step began (each engine in its own run)", lanes, bars, Colors);
    }

    /// <summary>
    /// Per engine, medians over the recorded steps: the whole step; for an engine with stacks on threads, each stack,
    /// how long the caller waited for the slowest stack after its own, and the share of the shorter stack's time both ran.
    /// </summary>
    public static DataFrame Table(IReadOnlyList<EngineTimeline> timelines)
    {
        static string Us(IEnumerable<double> xs) => xs.ToList() is { Count: > 0 } l ? IO.NumberText.Cell(DecodeBenchmark.Percentile(l, 0.5)) : "n/a";
        var rows = timelines.Select(t =>
        {
            var steps = t.Spans.GroupBy(s => s.Step).Select(g => g.ToList()).ToList();
            var stack = (int i) => steps.Select(g => g.FirstOrDefault(s => s.Work == $"stack {i}")).OfType<TimelineSpan>().ToList();
            var (one, two) = (stack(1), stack(2));
            var waits = steps.Select(g => (Own: g.FirstOrDefault(s => s.Work == "stack 1"), Join: g.FirstOrDefault(s => s.Work == "combine + head")))
                .Where(x => x.Own != null && x.Join != null).Select(x => Math.Max(0, x.Join!.StartUs - x.Own!.EndUs));
            var overlap = one.Zip(two, (a, b) => Math.Max(0, Math.Min(a.EndUs, b.EndUs) - Math.Max(a.StartUs, b.StartUs)) / Math.Max(1e-9, Math.Min(a.Us, b.Us)));
            return (t.Label, Step: IO.NumberText.Cell(t.MedianStepUs), One: Us(one.Select(s => s.Us)), Two: Us(two.Select(s => s.Us)), Wait: Us(waits), Overlap: Us(overlap));
        }).ToList();
        return new DataFrame(
            new StringDataFrameColumn("engine", rows.Select(r => r.Label)),
            new StringDataFrameColumn("step µs (median)", rows.Select(r => r.Step)),
            new StringDataFrameColumn("stack 1 µs", rows.Select(r => r.One)),
            new StringDataFrameColumn("stack 2 µs", rows.Select(r => r.Two)),
            new StringDataFrameColumn("caller waits for stack 2 µs", rows.Select(r => r.Wait)),
            new StringDataFrameColumn("share of the shorter stack run side by side", rows.Select(r => r.Overlap)));
    }
}
