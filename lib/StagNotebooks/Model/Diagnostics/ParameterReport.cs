namespace StagNotebooks.Model;

/// <summary>Parameters of one part of one stack. Stack is "embedding", "head", "stack N" or "shared".</summary>
public sealed record ParameterGroup(string Stack, string Component, long Count);

/// <summary>Parameter counts split into embedding / self-attention / cross-attention / FFN per stack: measured
/// from a model's tensors, or from the closed form of a config.</summary>
public static class ParameterReport
{
    /// <summary>Counts the model's actual tensors, grouped by their checkpoint key.</summary>
    public static IReadOnlyList<ParameterGroup> Measure(StagFormerModel model) =>
        model.named_parameters()
            .Select(np => (key: Classify(model.Config, np.name), n: np.parameter.NumberOfElements))
            .GroupBy(x => x.key)
            .Select(g => new ParameterGroup(g.Key.stack, g.Key.component, g.Sum(x => x.n)))
            .OrderBy(g => g.Stack, StringComparer.Ordinal).ThenBy(g => g.Component, StringComparer.Ordinal)
            .ToList();

    static (string stack, string component) Classify(StagFormerConfig c, string name)
    {
        if (name.StartsWith("tok_embeddings", StringComparison.Ordinal) || name.StartsWith("pos_embeddings", StringComparison.Ordinal)) return ("embedding", "embedding");
        if (name.StartsWith("lm_head", StringComparison.Ordinal) || name.StartsWith("final_norm", StringComparison.Ordinal)) return ("head", "head");
        if (name == "stack_mix") return ("head", "combination");
        // stacks.{s}.layers.{l}.(attn_norm|self_attn|ffn_norm|ffn) or stacks.{s}.cross_layers.{l}.…
        var parts = name.Split('.');
        string stack = c.Weights == WeightSharing.Shared ? "shared" : $"stack {int.Parse(parts[1]) + 1}";
        string component = parts[2] == "cross_layers" ? "cross-attention"
            : parts[4] is "attn_norm" or "self_attn" ? "self-attention" : "ffn";
        return (stack, component);
    }

    /// <summary>The closed form: what <see cref="Measure"/> must return for a model of this config.</summary>
    public static IReadOnlyList<ParameterGroup> Expected(StagFormerConfig c)
    {
        long d = c.DModel, v = c.VocabSize, h = c.LayersPerStack;
        long selfAttn = h * (4 * d * d + d);                                              // Q, K, V, O + pre-norm
        long ffn = h * ((c.Ffn == FfnKind.GeGLU ? 3 : 2) * d * c.FfnHidden + d);          // gate?, up, down + pre-norm
        long gate = c.CrossGate switch { CrossGateKind.PerLayer => 1, CrossGateKind.PerHead => c.Heads, _ => 0 };
        long cross = h * (4 * d * d + 2 * d + (c.EmptyCross == EmptyCrossAttention.NullSlot ? 2 * d : 0) + gate);  // + query and memory norms, null slot, gate
        var groups = new List<ParameterGroup>
        {
            new("embedding", "embedding", v * d + (c.Positional == PositionalEncoding.Learned ? c.MaxContext * d : 0)),
            new("head", "head", d + (c.TiedEmbeddings ? 0 : v * d)),
        };
        if (c.Combination == StackCombination.LearnedLinear) groups.Add(new("head", "combination", c.Stacks));
        if (c.Weights == WeightSharing.Shared)
        {
            groups.Add(new("shared", "self-attention", selfAttn));
            groups.Add(new("shared", "ffn", ffn));
            groups.Add(new("shared", "cross-attention", cross));
        }
        else
            for (int s = 1; s <= c.Stacks; s++)
            {
                groups.Add(new($"stack {s}", "self-attention", selfAttn));
                groups.Add(new($"stack {s}", "ffn", ffn));
                if (s > 1) groups.Add(new($"stack {s}", "cross-attention", cross));
            }
        return groups.OrderBy(g => g.Stack, StringComparer.Ordinal).ThenBy(g => g.Component, StringComparer.Ordinal).ToList();
    }

    public static long Total(IEnumerable<ParameterGroup> groups) => groups.Sum(g => g.Count);
}
