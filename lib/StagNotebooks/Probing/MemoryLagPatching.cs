using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Probing;

/// <summary>
/// Which memory lags matter, by activation patching (noising). The clean inputs (B, T) are run with the memory stack 2
/// reads (<c>stacks.1.hook_memory</c>) at one position j taken from a second, corrupted input; the metric is the mean
/// log-probability of the clean next token at the last position T−1, so j is at lag T−1−j from the query. As a
/// <see cref="PatchingSweep"/> with the corrupted input as its source, <see cref="PatchingSweep.Restored"/> is the
/// share of the whole corruption's damage that the patch alone does (0: that lag carries nothing the query uses). The
/// embedding (<c>hook_embed</c>) is swept beside it: corrupting the token at j reaches both stacks. Lag 0 is always 0
/// for the memory (the stagger: memory at T−1 is not visible to the query at T−1).
/// </summary>
public static class MemoryLagPatching
{
    /// <summary>The swept points: the memory, then the embedding.</summary>
    public static IReadOnlyList<string> Points => new[] { HookNames.Memory(1), HookNames.Embed };

    /// <summary>The sweep over lags 0..<paramref name="maxLag"/> (positions T−1−lag) of clean inputs (B, T), their next tokens (B, T), and corrupted inputs (B, T).</summary>
    public static PatchingSweep Run(StagFormerModel model, Tensor clean, Tensor targets, Tensor corrupted, int maxLag)
    {
        int last = (int)clean.shape[1] - 1;
        if (maxLag < 0 || maxLag > last) throw new ArgumentOutOfRangeException(nameof(maxLag), maxLag, $"lags run from 0 to T−1 = {last}");
        var positions = Enumerable.Range(0, maxLag + 1).Select(lag => last - lag).ToArray();
        var target = targets.select(1, last);                                                    // (B)
        Func<Tensor, double> metric = logits =>
        {
            using var scope = torch.NewDisposeScope();
            return logits.select(1, last).log_softmax(-1).gather(1, target.unsqueeze(1)).mean().to(ScalarType.Float64).item<double>();
        };
        return PatchingSweep.Run(model, corrupted, clean, Points, positions, metric);   // the source is the corrupted run: noising
    }

    /// <summary>The lag of each swept position of a sweep made by <see cref="Run"/> (T−1−position).</summary>
    public static int[] Lags(PatchingSweep sweep) => sweep.Positions.Select(p => sweep.Positions[0] - p).ToArray();
}
