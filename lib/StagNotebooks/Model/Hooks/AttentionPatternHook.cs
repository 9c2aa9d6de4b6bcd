using StagNotebooks.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Model;

/// <summary>
/// The attention-pattern hook points (<see cref="HookNames.AttnPattern"/>, <see cref="HookNames.CrossPattern"/>): the
/// forward computes attention with SDPA, which does not expose its weights, so only when a hook listens at a pattern
/// point are the weights computed explicitly (softmax(q·kᵀ/√D) over the visible keys) and shown to it. A hook that
/// leaves the pattern (returns null or the value itself) leaves SDPA's output, so the logits stay bit-identical; a
/// replacement p' gives the heads' outputs p'·V (no attention dropout: hooks are for evaluation). A decode step
/// (<see cref="TransformerBlock.Step"/>, every engine) does the same for its one query over the cached keys.
/// </summary>
internal static class AttentionPatternHook
{
    /// <summary>softmax(q·kᵀ/√D) over the keys <paramref name="visible"/> allows: q (B, H, T, D), k (B, H, K, D), visible (T, K) or null (all) → (B, H, T, K).</summary>
    public static Tensor Probabilities(Tensor q, Tensor k, Tensor? visible)
    {
        var scores = torch.matmul(q, k.transpose(-2, -1)).Times(1.0 / Math.Sqrt(q.shape[^1]));   // (B, H, T, K); HeldScalars says why
        if (visible is not null) scores = scores.Filled(visible.logical_not(), float.NegativeInfinity);
        return scores.softmax(-1);
    }

    /// <summary>
    /// Shows <paramref name="probs"/> (B, H, T, K) to the hooks of <paramref name="name"/> as (B, T, H, K) (T on axis 1,
    /// as at every hook point, so patching and caching work along positions); the replacement as (B, H, T, K), or null
    /// when no hook replaced it.
    /// </summary>
    public static Tensor? Replace(HookSet hooks, string name, Tensor probs, int start) =>
        hooks.TryApply(name, probs.transpose(1, 2), start, out var r) ? r.transpose(1, 2) : null;
}
