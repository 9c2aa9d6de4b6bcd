using System.Diagnostics;

namespace StagNotebooks.Training;

/// <summary>
/// One status line that rewrites itself (carriage return, no newline) at most every <see cref="Interval"/>: a live
/// progress display in Jupyter, VS Code and a terminal alike. Why not the kernel's <c>display(x).Update(y)</c>: in
/// the .NET Interactive kernel 1.0.712001 the update carries another id than the display it should replace, so
/// no front end applies it (environment.md).
/// </summary>
public sealed class LiveProgress(TextWriter writer)
{
    readonly Stopwatch _since = Stopwatch.StartNew();
    bool _shown;

    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Shows <paramref name="status"/> unless the last one was shown less than <see cref="Interval"/> ago.</summary>
    public void Report(string status)
    {
        if (_shown && _since.Elapsed < Interval) return;
        writer.Write("\r" + status);
        writer.Flush();
        _shown = true;
        _since.Restart();
    }

    /// <summary>Replaces the status line with <paramref name="final"/> and ends it.</summary>
    public void Done(string final)
    {
        writer.Write((_shown ? "\r" : "") + final + "\n");
        writer.Flush();
        _shown = false;
    }

    /// <summary>"step 120/200 · loss 5.812 · 6.9k tok/s · 12 s left".</summary>
    public static string Training(string label, int step, int total, double loss, double tokensPerSecond, double elapsedSeconds)
    {
        var left = step > 0 ? elapsedSeconds / step * (total - step) : double.NaN;
        return $"{label}: step {step}/{total} · loss {loss:F3} · {tokensPerSecond / 1000:F1}k tok/s · {(double.IsFinite(left) ? $"{left:F0} s left" : "…")}";
    }
}
