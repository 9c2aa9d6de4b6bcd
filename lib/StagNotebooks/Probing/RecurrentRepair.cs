using StagNotebooks.Decoding;
using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Probing;

/// <summary>
/// Restoring the true memory at position <paramref name="Restored"/>: the mean next-token loss gap (recurrent − two-pass,
/// nats) over the positions after it, without (<paramref name="GapBefore"/>) and with (<paramref name="GapAfter"/>) the restore.
/// </summary>
public sealed record RepairPoint(int Restored, double GapBefore, double GapAfter)
{
    /// <summary>The fraction of the gap the restore closes (NaN when there is no gap).</summary>
    public double ShareRepaired => GapBefore != 0 ? (GapBefore - GapAfter) / GapBefore : double.NaN;
}

/// <summary>
/// What restoring the true pass-1 memory at one step repairs in recurrent decoding. The recurrent engine's memory of a
/// step is its own final output, fired at <c>stacks.1.hook_memory</c> (B, 1, d) before later steps read it; a hook
/// patches in the two-pass model's pass-1 output at that position (the forward's value of the same point). Restoring
/// every step makes recurrent decoding the two-pass model (ProbingTests checks it).
/// </summary>
public static class RecurrentRepair
{
    /// <summary>
    /// Per position pos in [prompt, T−1): the next-token loss (mean over the batch) of recurrent decoding of tokens (B, T),
    /// the prompt prefilled by both passes, with hooks attached to every step.
    /// </summary>
    public static double[] RecurrentLosses(StagFormerModel model, Tensor tokens, int prompt, HookSet? hooks = null)
    {
        using var ng = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        model.eval();
        using var engine = EngineKinds.Create(model, EngineKind.Recurrent);
        using var session = engine.Start(tokens.shape[0]);
        using var attached = ModelHooks.Attach(hooks);
        session.Prefill(tokens.narrow(1, 0, prompt));
        var losses = new double[tokens.shape[1] - 1 - prompt];
        for (int pos = prompt; pos < tokens.shape[1] - 1; pos++)
        {
            using var step = torch.NewDisposeScope();
            var logits = session.Step(tokens.narrow(1, pos, 1));                                 // (B, V)
            losses[pos - prompt] = NextTokenLoss(logits, tokens.select(1, pos + 1));
        }
        return losses;
    }

    /// <summary>The two-pass model's next-token losses at the same positions (teacher-forced forward).</summary>
    public static double[] TwoPassLosses(StagFormerModel model, Tensor tokens, int prompt)
    {
        using var scope = torch.NewDisposeScope();
        var logits = Interventions.RunWithHooks(model, tokens, new HookSet());                  // (B, T, V)
        return Enumerable.Range(prompt, (int)tokens.shape[1] - 1 - prompt)
            .Select(pos => NextTokenLoss(logits.select(1, pos), tokens.select(1, pos + 1))).ToArray();
    }

    /// <summary>Hooks that give recurrent steps at <paramref name="positions"/> the two-pass pass-1 output of tokens (B, T) as their memory.</summary>
    public static HookSet RestoreMemory(StagFormerModel model, Tensor tokens, IReadOnlyCollection<int> positions, ActivationCache trueMemory)
    {
        if (!trueMemory.Contains(HookNames.Memory(1))) trueMemory.Run(model, tokens);
        return new HookSet().Add(HookNames.Memory(1), Interventions.Patch(trueMemory[HookNames.Memory(1)], positions));
    }

    /// <summary>For each position in <paramref name="restored"/> (≥ prompt): the loss gap after it, without and with its memory restored.</summary>
    public static IReadOnlyList<RepairPoint> Measure(StagFormerModel model, Tensor tokens, int prompt, IReadOnlyList<int> restored)
    {
        var bad = restored.Where(j => j < prompt || j > tokens.shape[1] - 3).ToList();
        if (bad.Count > 0)
            throw new ArgumentException($"restored position {bad[0]} is outside [{prompt}, {tokens.shape[1] - 3}]: a position after the prompt with a later position to score", nameof(restored));
        var twoPass = TwoPassLosses(model, tokens, prompt);
        var plain = RecurrentLosses(model, tokens, prompt);
        using var trueMemory = new ActivationCache(n => n == HookNames.Memory(1));
        return restored.Select(j =>
        {
            var fixedLosses = RecurrentLosses(model, tokens, prompt, RestoreMemory(model, tokens, new[] { j }, trueMemory));
            return new RepairPoint(j, MeanGapAfter(plain, twoPass, j - prompt), MeanGapAfter(fixedLosses, twoPass, j - prompt));
        }).ToList();
    }

    static double MeanGapAfter(double[] losses, double[] twoPass, int index) =>
        Enumerable.Range(index + 1, losses.Length - index - 1).Average(i => losses[i] - twoPass[i]);

    static double NextTokenLoss(Tensor logits, Tensor target) =>
        -logits.log_softmax(-1).gather(1, target.unsqueeze(1)).mean().to(ScalarType.Float64).item<double>();   // (B, V), (B)
}
