using StagNotebooks.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Decoding;

/// <summary>Temperature 0 is greedy; TopK 0 keeps the whole vocabulary.</summary>
public sealed record SamplingOptions(double Temperature = 0, int TopK = 0, long Seed = 0)
{
    public static readonly SamplingOptions Greedy = new();

    /// <summary>Next tokens (B, 1) from logits (B, V).</summary>
    public Tensor Sample(Tensor logits, Generator? generator)
    {
        using var scope = torch.NewDisposeScope();
        if (Temperature <= 0) return logits.argmax(-1, keepdim: true).MoveToOuterDisposeScope();
        var scaled = logits.DividedBy(Temperature);
        if (TopK > 0 && TopK < logits.shape[^1])
        {
            var kth = scaled.topk(TopK, -1).values.narrow(-1, TopK - 1, 1);            // (B, 1)
            scaled = scaled.Filled(scaled < kth, float.NegativeInfinity);
        }
        return torch.multinomial(scaled.softmax(-1), 1, generator: generator).MoveToOuterDisposeScope();
    }
}
