using static TorchSharp.torch;

namespace StagNotebooks.Evaluation;

/// <summary>
/// A language model seen one sequence per forward: <see cref="ILanguageModel"/>'s default batch methods over the inner
/// model's <see cref="ILanguageModel.LogProbs"/>. The reference batched scoring is measured and tested against.
/// </summary>
public sealed class OneWindowPerCall(ILanguageModel inner) : ILanguageModel
{
    public int VocabSize => inner.VocabSize;
    public int MaxContext => inner.MaxContext;
    public Tensor LogProbs(long[] tokens) => inner.LogProbs(tokens);
}
