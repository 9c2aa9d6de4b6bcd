using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StagNotebooks.Model;

/// <summary>
/// What one pass reads besides the model's weights. <paramref name="Embeddings"/>: E (B, T, d) at positions
/// [Start, Start+T). <paramref name="SelfCaches"/>: one per layer, or null (training). <paramref name="Memory"/>:
/// the stack below's output, for a pass that has one (its cross sublayers run only then).
/// </summary>
/// <paramref name="Pass"/>: the pass the stack runs as, naming its hook points (−1: its <see cref="LayerStack.StackIndex"/>).
public sealed record StackInput(Tensor Embeddings, int Start, RotaryEmbedding? Rope,
                                IReadOnlyList<KVCache>? SelfCaches = null, StackMemory? Memory = null, int Pass = -1);

/// <summary>
/// Where the cross sublayers read the stack below: <paramref name="Output"/> is its output (B, T, d) at the input's
/// positions, and <paramref name="Caches"/> (one per layer), if any, the earlier ones.
/// </summary>
public sealed record StackMemory(Tensor Output, IReadOnlyList<KVCache>? Caches = null);

/// <summary>
/// One stack of h blocks. Upper stacks (and the single stack of a shared-weights model) also own one
/// cross-attention sublayer per block; a pass uses them only when it has a stack below it.
/// </summary>
public sealed class LayerStack : nn.Module<StackInput, Tensor>
{
    public int StackIndex { get; }
    public ModuleList<TransformerBlock> layers;
    public ModuleList<CrossAttentionBlock> cross_layers;

    public LayerStack(StagFormerConfig c, int stackIndex, bool withCross) : base(nameof(LayerStack))
    {
        StackIndex = stackIndex;
        layers = nn.ModuleList(Enumerable.Range(0, c.LayersPerStack).Select(l => new TransformerBlock(c, l)).ToArray());
        cross_layers = withCross
            ? nn.ModuleList(Enumerable.Range(0, c.LayersPerStack).Select(_ => new CrossAttentionBlock(c)).ToArray())
            : nn.ModuleList<CrossAttentionBlock>();
        RegisterComponents();
    }

    public bool HasCross => cross_layers.Count > 0;

    /// <summary>Runs one pass's blocks on input.Embeddings (B, T, d) → (B, T, d).</summary>
    public override Tensor forward(StackInput input)
    {
        var memory = input.Memory;
        int pass = input.Pass >= 0 ? input.Pass : StackIndex;
        if (memory is null) return Run(input.Embeddings, input.Start, input.Rope, input.SelfCaches, null, pass);
        if (!HasCross) throw new InvalidOperationException($"stack {StackIndex} has no cross-attention layers");
        return Run(input.Embeddings, input.Start, input.Rope, input.SelfCaches, l => new CrossInput(memory.Output, memory.Caches?[l]), pass);
    }

    /// <param name="cross">layer → what its cross sublayer reads; null: the cross sublayers are off</param>
    Tensor Run(Tensor e, int start, RotaryEmbedding? rope, IReadOnlyList<KVCache>? selfCaches, Func<int, CrossInput>? cross, int pass)
    {
        using var scope = torch.NewDisposeScope();
        var x = e;
        for (int l = 0; l < layers.Count; l++)
            x = layers[l].Forward(x, start, rope, selfCaches?[l], cross is null ? null : cross_layers[l], cross?.Invoke(l), pass);
        return x.MoveToOuterDisposeScope();
    }
}
