using System.Runtime.InteropServices;

namespace StagNotebooks.Cli;

/// <summary>
/// A write past a file-size limit (ulimit -f) raises SIGXFSZ, whose default action kills the process without a word.
/// Ignored, the write fails with EFBIG instead: an IOException ("File too large") that training reports as a failed
/// checkpoint save, keeping the previous one.
/// </summary>
static class PosixSignals
{
    const int SIGXFSZ = 25;   // Linux (x86-64 and arm64)

    public static void IgnoreFileSizeLimitSignal()
    {
        if (!OperatingSystem.IsLinux()) return;
        signal(SIGXFSZ, (IntPtr)1 /* SIG_IGN */);
    }

    [DllImport("libc")] static extern IntPtr signal(int signum, IntPtr handler);
}
