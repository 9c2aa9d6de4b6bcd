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

    /// <summary>--concurrency auto|N: runs trained at once (0 = auto: what `stag bench train --concurrency` measured fastest, else 1).</summary>
    public static int Concurrency(CommandLine args)
    {
        var text = args.Get("concurrency", "auto");
        return text == "auto" ? 0 : int.TryParse(text, out var n) && n >= 1 ? n
            : throw new CliException($"option --concurrency: expected auto or a whole number ≥ 1 (got '{text}')");
    }
}
