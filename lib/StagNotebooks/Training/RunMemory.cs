using StagNotebooks.Model;

namespace StagNotebooks.Training;

/// <summary>How much memory a training run needs and how much the machine has free: the scheduler's check before it starts runs side by side.</summary>
public static class RunMemory
{
    /// <summary>
    /// Bytes one worker needs, estimated: fp32 weights, gradients and AdamW's two moments (4 copies of the
    /// parameters), the forward's activations kept for backward (about 16 (B, T, d) tensors per layer) and the logits with
    /// their gradient and softmax (3 (B, T, V)), plus a process's own runtime (the .NET host and libtorch, ~400 MiB
    /// resident when measured with `ps` on this machine's workers).
    /// </summary>
    public static long Estimate(TrainConfig c)
    {
        long parameters = ParameterReport.Total(ParameterReport.Expected(c.Model));
        long positions = (long)c.BatchSize * c.ContextLength;
        long layers = (long)c.Model.Stacks * c.Model.LayersPerStack;
        long activations = positions * (16L * c.Model.DModel * layers + 3L * c.Model.VocabSize);
        return 4 * (4 * parameters + activations) + (400L << 20);
    }

    /// <summary>Bytes the machine can give a new process now: Linux's MemAvailable, else what the GC reports as available.</summary>
    public static long Available()
    {
        const string meminfo = "/proc/meminfo";
        if (File.Exists(meminfo))
            foreach (var line in File.ReadLines(meminfo))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;   // "MemAvailable:  123 kB"
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }
}
