using System.Diagnostics;

namespace StagNotebooks.Decoding;

/// <summary>One piece of a decode step on one lane (the thread that ran it): when it started and ended, µs from the timeline's start.</summary>
public sealed record TimelineSpan(int Step, string Lane, string Work, double StartUs, double EndUs)
{
    public double Us => EndUs - StartUs;
}

/// <summary>
/// When each piece of a decode step ran, and on which thread: what the decode-timeline picture draws (which pass waits
/// for which). A session records into it while <see cref="IDecodeSession.Timeline"/> is set: every engine its whole
/// step on the lane <see cref="StepLane"/>; the thread engine also each stack's work on its own thread's lane and the
/// caller's embedding and combine + head. Off (null) it costs a null check per piece. Times are the host's: on a GPU,
/// when the work was issued.
/// </summary>
public sealed class StepTimeline
{
    /// <summary>The lane of whole steps, which every engine records.</summary>
    public const string StepLane = "whole step";

    readonly long _origin = Stopwatch.GetTimestamp();
    readonly List<TimelineSpan> _spans = new();

    /// <summary>A timestamp to pass to <see cref="Add"/>.</summary>
    public static long Now() => Stopwatch.GetTimestamp();

    /// <summary>Records a piece of work; safe to call from several threads.</summary>
    public void Add(int step, string lane, string work, long start, long end)
    {
        var span = new TimelineSpan(step, lane, work, Us(start), Us(end));
        lock (_spans) _spans.Add(span);
    }

    double Us(long t) => (t - _origin) * 1e6 / Stopwatch.Frequency;

    /// <summary>The spans recorded so far, by start time.</summary>
    public IReadOnlyList<TimelineSpan> Spans
    {
        get { lock (_spans) return _spans.OrderBy(s => s.StartUs).ToList(); }
    }
}
