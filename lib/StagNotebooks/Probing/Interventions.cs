using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Probing;

/// <summary>
/// Hooks that intervene on a hook point (<see cref="HookNames"/>): zero- and mean-ablation, head ablation, activation
/// patching. Attach them with <see cref="ModelHooks.Attach"/> or run a forward with <see cref="RunWithHooks"/>; they
/// work the same in every decoding engine's step (there a value is (B, 1, …) at Start = the step's position).
/// </summary>
public static class Interventions
{
    /// <summary>Logits (B, T, V) of a teacher-forced forward of <paramref name="tokens"/> with <paramref name="hooks"/> attached for that call only (no_grad).</summary>
    public static Tensor RunWithHooks(StagFormerModel model, Tensor tokens, HookSet hooks)
    {
        using var ng = torch.no_grad();
        using var attached = ModelHooks.Attach(hooks);
        return model.forward(new ModelInput(tokens)).Logits;
    }

    /// <summary>Replaces the value by zeros.</summary>
    public static ActivationHook Zero() => static (v, _) => torch.zeros_like(v);

    /// <summary>Replaces the value by <paramref name="mean"/> (the value's shape without B and T, e.g. (d)) at every row and position.</summary>
    public static ActivationHook Mean(Tensor mean) => (v, _) => mean.to(v.device).to(v.dtype).expand_as(v);

    /// <summary>The mean over batch and positions of the value at <paramref name="name"/> in a forward of <paramref name="tokens"/> (B, T): shape (…).</summary>
    public static Tensor MeanOf(StagFormerModel model, Tensor tokens, string name)
    {
        using var cache = new ActivationCache(n => n == name);
        using (torch.NewDisposeScope()) cache.Run(model, tokens);
        var v = cache[name];
        return v.reshape(-1, v.shape.Skip(2).Aggregate(1L, (a, b) => a * b)).mean(new long[] { 0 }).view(v.shape.Skip(2).ToArray());
    }

    /// <summary>Zeroes heads <paramref name="heads"/> of a hook_z point (B, T, H, D): the heads' outputs before o_proj.</summary>
    public static ActivationHook AblateHeads(params int[] heads) => (v, _) =>
    {
        var r = v.clone();
        foreach (int h in heads) r.select(2, h).zero_();
        return r;
    };

    /// <summary>
    /// Activation patching: at the absolute positions <paramref name="positions"/> that fall in a call's range, the
    /// value becomes <paramref name="source"/>'s (B, T_source, …) at the same position (e.g. a clean run's cached value
    /// patched into a corrupted run); other positions are left as they are.
    /// </summary>
    public static ActivationHook Patch(Tensor source, IReadOnlyCollection<int> positions) => (v, p) =>
    {
        Tensor? r = null;
        foreach (int pos in positions)
        {
            int t = pos - p.Start;
            if (t < 0 || t >= v.shape[1]) continue;
            r ??= v.clone();
            r.select(1, t).copy_(source.select(1, pos));
        }
        return r;
    };

    /// <summary>Hooks zeroing what every cross-attention sublayer adds to the residual stream (every pass s ≥ 1, every layer).</summary>
    public static HookSet ZeroAllCrossOutputs(StagFormerConfig c)
    {
        var hooks = new HookSet();
        for (int s = 1; s < c.Stacks; s++)
            for (int l = 0; l < c.LayersPerStack; l++) hooks.Add(HookNames.CrossOut(s, l), Zero());
        return hooks;
    }
}
