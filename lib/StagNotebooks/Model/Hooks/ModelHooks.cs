using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Model;

/// <summary>Where a hook fires: its <paramref name="Name"/> and the first position <paramref name="Start"/> of the value's T axis.</summary>
public readonly record struct HookPoint(string Name, int Start);

/// <summary>
/// A hook on a named point: reads <c>value</c> (B, T, …) at positions [Start, Start+T) and returns null to leave it,
/// or a tensor of the same shape that replaces it. The value is a view inside the forward's dispose scope: a hook
/// that keeps it must copy it. A replacement is aliased into that scope, so a tensor the hook owns is never disposed by
/// the model, and temporaries the hook makes are disposed with the forward's scope.
/// </summary>
public delegate Tensor? ActivationHook(Tensor value, HookPoint point);

/// <summary>
/// The names of the hook points, read like checkpoint keys. <c>stacks.{s}</c> is pass s (0-based; with shared
/// weights every pass runs the one stack of weights but keeps its own index here). Steps of a decoding engine fire
/// the same names with T = 1 at Start = the step's position.
/// <para>
/// The two attention-pattern points (<see cref="AttnPattern"/>, <see cref="CrossPattern"/>) are different: they fire
/// in the teacher-forced forward only (training, <c>Interventions.RunWithHooks</c>, every engine's prefill, and the
/// sequential engine's steps, which run the forward on one position), only for hooks added by their exact name (a
/// filter never sees them: they cost an explicit softmax), and are not in <see cref="All"/>. The parallel, stacked
/// and recurrent engines' steps (<see cref="TransformerBlock.Step"/>) compute attention with SDPA and never form the
/// weights: a step with a pattern hook attached throws, naming it.
/// </para>
/// </summary>
public static class HookNames
{
    /// <summary>E (B, T, d): the token embeddings every stack reads.</summary>
    public const string Embed = "hook_embed";
    /// <summary>(B, T, V): the logits.</summary>
    public const string Logits = "hook_logits";
    /// <summary>(B, T, d): the memory pass s cross-attends to (pass s−1's output), before its cross K/V projection.</summary>
    public static string Memory(int pass) => $"stacks.{pass}.hook_memory";
    /// <summary>(B, T, d): the residual stream after block <paramref name="layer"/> of pass <paramref name="pass"/>.</summary>
    public static string ResidPost(int pass, int layer) => $"stacks.{pass}.layers.{layer}.hook_resid_post";
    /// <summary>(B, T, d): what cross-attention of the block adds to the residual stream.</summary>
    public static string CrossOut(int pass, int layer) => $"stacks.{pass}.layers.{layer}.cross_attn.hook_out";
    /// <summary>(B, T, H, D): each head's cross-attention output before the gate and o_proj (head ablation).</summary>
    public static string CrossZ(int pass, int layer) => $"stacks.{pass}.layers.{layer}.cross_attn.hook_z";
    /// <summary>
    /// (B, T, H, 1+K): each head's cross-attention weights, rows summing to 1. Column 0 is the null slot (without one,
    /// EmptyCrossAttention.Zero: weight 1 for a query that sees no memory, whose value is zero); column 1+j is the
    /// call's j-th memory key, position j in a forward without cache (a cached call: the cache's positions, then the
    /// call's). A replacement p' makes the heads' outputs p'·[null value; V]. Forward only (see the class).
    /// </summary>
    public static string CrossPattern(int pass, int layer) => $"stacks.{pass}.layers.{layer}.cross_attn.hook_pattern";
    /// <summary>(B, T, H, start+T): each head's causal self-attention weights over key positions 0..start+T−1 (zero above the diagonal). Forward only (see the class).</summary>
    public static string AttnPattern(int pass, int layer) => $"stacks.{pass}.layers.{layer}.attn.hook_pattern";

    /// <summary>Whether <paramref name="name"/> is an attention-pattern point (reached only by exact name, forward only).</summary>
    public static bool IsPattern(string name) => name.EndsWith(".hook_pattern", StringComparison.Ordinal);

    /// <summary>Every attention-pattern point of a model with config <paramref name="c"/>, in the order a forward fires them.</summary>
    public static IEnumerable<string> Patterns(StagFormerConfig c)
    {
        for (int s = 0; s < c.Stacks; s++)
            for (int l = 0; l < c.LayersPerStack; l++)
            {
                yield return AttnPattern(s, l);
                if (s > 0) yield return CrossPattern(s, l);
            }
    }

    /// <summary>Every hook point of a model with config <paramref name="c"/> except the attention patterns (<see cref="Patterns"/>), in the order a forward fires them.</summary>
    public static IEnumerable<string> All(StagFormerConfig c)
    {
        yield return Embed;
        for (int s = 0; s < c.Stacks; s++)
        {
            if (s > 0) yield return Memory(s);
            for (int l = 0; l < c.LayersPerStack; l++)
            {
                if (s > 0) { yield return CrossZ(s, l); yield return CrossOut(s, l); }
                yield return ResidPost(s, l);
            }
        }
        yield return Logits;
    }
}

/// <summary>Hooks by exact name, plus hooks on every name a filter accepts; attach with <see cref="ModelHooks.Attach"/>.</summary>
public sealed class HookSet
{
    readonly Dictionary<string, List<ActivationHook>> _byName = new(StringComparer.Ordinal);
    readonly List<(Func<string, bool> Filter, ActivationHook Hook)> _filtered = new();

    public HookSet Add(string name, ActivationHook hook)
    {
        if (!_byName.TryGetValue(name, out var list)) _byName[name] = list = new List<ActivationHook>();
        list.Add(hook);
        return this;
    }

    /// <summary>Hooks every name <paramref name="filter"/> accepts, except the attention patterns (<see cref="HookNames.IsPattern"/>: by exact name only).</summary>
    public HookSet Add(Func<string, bool> filter, ActivationHook hook)
    {
        _filtered.Add((filter, hook));
        return this;
    }

    /// <summary>Whether any hook listens at <paramref name="name"/>.</summary>
    public bool Wants(string name) => _byName.ContainsKey(name) || (_filtered.Count > 0 && !HookNames.IsPattern(name) && _filtered.Exists(f => f.Filter(name)));

    /// <summary>Runs the hooks of <paramref name="name"/> in order on value (each sees the last one's replacement); true when one replaced it.</summary>
    public bool TryApply(string name, Tensor value, int start, out Tensor result)
    {
        result = value;
        bool replaced = false;
        var point = new HookPoint(name, start);
        if (_byName.TryGetValue(name, out var list))
            foreach (var h in list) replaced |= Run(h, point, ref result);
        if (_filtered.Count > 0 && !HookNames.IsPattern(name))
            foreach (var (filter, h) in _filtered)
                if (filter(name)) replaced |= Run(h, point, ref result);
        return replaced;
    }

    /// <summary>The value after the hooks of <paramref name="name"/>: itself, or the replacement.</summary>
    public Tensor Apply(string name, Tensor value, int start) => TryApply(name, value, start, out var r) ? r : value;

    static bool Run(ActivationHook hook, HookPoint point, ref Tensor value)
    {
        var r = hook(value, point);
        if (r is null || ReferenceEquals(r, value)) return false;
        if (!r.shape.SequenceEqual(value.shape))
            throw new InvalidOperationException($"hook at {point.Name} returned shape ({string.Join(", ", r.shape)}) for a value of shape ({string.Join(", ", value.shape)})");
        value = r.to(value.dtype).alias();   // a handle of the forward's scope: the hook's own tensor is never disposed by the model
        return true;
    }

    /// <summary>
    /// A decode step's rows x (n, B, …) of passes firstPass.. (row i is pass firstPass+i): each row's hooks of
    /// name(pass, layer) see it as (B, 1, …) at <paramref name="pos"/>; a replacement is copied into the row, in place.
    /// </summary>
    internal void ApplyToRows(Tensor x, int firstPass, Func<int, int, string> name, int layer, int pos)
    {
        for (int i = 0; i < x.shape[0]; i++)
        {
            string n = name(firstPass + i, layer);
            if (!Wants(n)) continue;
            var row = x.select(0, i);
            if (TryApply(n, row.unsqueeze(1), pos, out var r)) row.copy_(r.squeeze(1));
        }
    }
}

/// <summary>
/// Where a block's hooks go in a teacher-forced forward: the set, and the pass and layer that name the points.
/// Made only when hooks are attached.
/// </summary>
public sealed record HookSite(HookSet Set, int Pass, int Layer);

/// <summary>
/// The hook set of the current thread, attached for one scope. Thread-static, so engines that compute on other
/// threads (the parallel engine's stack workers) capture <see cref="Current"/> at step time and attach it there.
/// With none attached the model pays one thread-static read per hook site and allocates nothing.
/// </summary>
public static class ModelHooks
{
    [ThreadStatic] static HookSet? _current;

    public static HookSet? Current => _current;

    /// <summary>Makes <paramref name="hooks"/> this thread's set until the returned scope is disposed (which puts back the previous one).</summary>
    public static Scope Attach(HookSet? hooks)
    {
        var previous = _current;
        _current = hooks;
        return new Scope(previous);
    }

    /// <summary>Runs <paramref name="run"/> with <paramref name="hooks"/> attached; they are removed after, also when it throws.</summary>
    public static T RunWithHooks<T>(HookSet hooks, Func<T> run)
    {
        using var _ = Attach(hooks);
        return run();
    }

    public readonly struct Scope : IDisposable
    {
        readonly HookSet? _previous;
        internal Scope(HookSet? previous) => _previous = previous;
        public void Dispose() => _current = _previous;
    }
}
