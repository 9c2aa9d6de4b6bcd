using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Evaluation;

/// <summary>
/// What the scorers need from a model: teacher-forced next-token log-probabilities of one sequence. Tests plug
/// in a model of fixed probabilities; <see cref="StagFormerLanguageModel"/> adapts a StagFormer.
/// </summary>
public interface ILanguageModel
{
    int VocabSize { get; }
    /// <summary>The longest sequence <see cref="LogProbs"/> accepts; longer texts are scored in windows (<see cref="TokenScoring"/>).</summary>
    int MaxContext { get; }
    /// <summary>
    /// (T, V) log-softmax of the next token at each position of <paramref name="tokens"/> (T ≤ MaxContext):
    /// row t is log p(· | tokens[0..t]). The caller owns the returned tensor.
    /// </summary>
    Tensor LogProbs(long[] tokens);

    /// <summary>
    /// <see cref="LogProbs"/> of several sequences, entry i (T_i, V) for sequence i, owned by the caller. A model that
    /// can run them as one batch overrides this (many windows per forward); the default calls LogProbs one by one.
    /// </summary>
    IReadOnlyList<Tensor> LogProbsBatch(IReadOnlyList<long[]> sequences) => sequences.Select(LogProbs).ToList();

    /// <summary>
    /// Rows [Start, Start + Count) of <see cref="LogProbsBatch"/>'s entry i, (Count_i, V): all a scorer reads. A model
    /// may normalise only these rows (a sliding window scores half of its positions); the default narrows the full rows.
    /// </summary>
    IReadOnlyList<Tensor> LogProbsRows(IReadOnlyList<long[]> sequences, IReadOnlyList<(int Start, int Count)> rows) =>
        LogProbsBatch(sequences).Select((lp, i) => lp.narrow(0, rows[i].Start, rows[i].Count)).ToList();

    /// <summary>
    /// What a scorer reads of the rows <see cref="LogProbsRows"/> asks for, flat in their order (Σ Count_i rows): row r's
    /// log p(targets[r]) and whether targets[r] is its argmax. A model may skip work no asked row needs
    /// (<see cref="StagFormerLanguageModel"/> unembeds only these rows); the default reads <see cref="LogProbsRows"/>.
    /// </summary>
    TokenScores ScoreTargets(IReadOnlyList<long[]> sequences, IReadOnlyList<(int Start, int Count)> rows, long[] targets)
    {
        using var scope = torch.NewDisposeScope();
        return TargetScoring.Pick(torch.cat(LogProbsRows(sequences, rows).ToArray(), 0), targets);   // (Σ Count, V)
    }
}
