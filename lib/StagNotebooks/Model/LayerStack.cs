using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StagNotebooks.Model;

/// <summary>
/// One stack of h blocks. Upper stacks (and the single stack of a shared-weights model) also own one
/// cross-attention sublayer per block; a pass uses them only when it has a stack below it.
/// </summary>
public sealed class LayerStack : nn.Module
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

    /// <summary>
    /// Runs the blocks on e (B, T, d). <paramref name="memory"/>: chunk-mode memory of the stack below (null in step
    /// mode or for a pass with no stack below); <paramref name="useCross"/> turns the cross sublayers on.
    /// </summary>
    public Tensor Forward(Tensor e, int start, RotaryEmbedding? rope, IReadOnlyList<KVCache>? selfCaches,
                          bool useCross, Tensor? memory, IReadOnlyList<KVCache>? crossCaches, long crossFirstRow = 0)
    {
        if (useCross && !HasCross) throw new InvalidOperationException($"stack {StackIndex} has no cross-attention layers");
        using var scope = torch.NewDisposeScope();
        var x = e;
        for (int l = 0; l < layers.Count; l++)
        {
            var cross = useCross ? cross_layers[l] : null;
            var input = useCross ? new CrossInput(memory, crossCaches?[l], crossFirstRow) : null;
            x = layers[l].Forward(x, start, rope, selfCaches?[l], cross, input);
        }
        return x.MoveToOuterDisposeScope();
    }
}
