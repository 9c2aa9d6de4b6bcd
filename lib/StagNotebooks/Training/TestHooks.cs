using System.Globalization;

namespace StagNotebooks.Training;

/// <summary>
/// Environment hooks for the fault-injection test (tests/.../Training/KillResumeTests.cs), inert unless set:
/// STAG_TEST_STEP_LOG=file appends "pid step" for each step executed (so the test counts work lost to kills);
/// STAG_TEST_CHECKPOINT_PAUSE_MS=n pauses inside each checkpoint commit (see <see cref="CheckpointStore"/>).
/// </summary>
static class TestHooks
{
    static readonly string? StepLog = Environment.GetEnvironmentVariable("STAG_TEST_STEP_LOG");

    public static void StepDone(int step)
    {
        if (StepLog is null) return;
        using var f = new FileStream(StepLog, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        var line = System.Text.Encoding.ASCII.GetBytes($"{Environment.ProcessId} {step.ToString(CultureInfo.InvariantCulture)}\n");
        f.Write(line);
    }
}
