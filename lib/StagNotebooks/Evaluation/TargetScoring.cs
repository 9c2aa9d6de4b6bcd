using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Evaluation;

/// <summary>The two numbers a scorer keeps of each normalised row: log p(target) and whether the target was the argmax.</summary>
public static class TargetScoring
{
    /// <summary>
    /// From log-probabilities (N, V) and one target per row: one gather, one argmax and one copy to the CPU for all
    /// N rows (per-window calls cost more than the arithmetic at small V·d).
    /// </summary>
    public static TokenScores Pick(Tensor logProbs, long[] targets)
    {
        using var scope = torch.NewDisposeScope();
        var t = torch.tensor(targets, device: logProbs.device);                                           // (N)
        var picked = logProbs.gather(1, t.unsqueeze(1)).squeeze(1).to_type(ScalarType.Float64).cpu();   // (N)
        var greedy = logProbs.argmax(1).eq(t).cpu();                                                      // (N)
        return new TokenScores(picked.data<double>().ToArray(), greedy.data<bool>().ToArray());
    }
}
