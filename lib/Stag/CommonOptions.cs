using TorchSharp;
using StagNotebooks.Runtime;

namespace StagNotebooks.Cli;

/// <summary>Options shared by commands that compute.</summary>
public static class CommonOptions
{
    /// <summary>--threads N sets libtorch's intra-op thread count (default: all cores).</summary>
    public static void ApplyThreads(CommandLine args)
    {
        if (!args.Has("threads")) return;
        int n = args.GetInt("threads", 0);
        if (n < 1) throw new CliException($"option --threads: must be at least 1 (got {n})");
        TorchRuntime.EnsureLoaded();
        torch.set_num_threads(n);
    }
}
