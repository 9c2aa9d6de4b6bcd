using System.Buffers;
using Microsoft.ML.Tokenizers;
using StagNotebooks.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Evaluation;

/// <summary>One token per character of a fixed alphabet (id = index), so tests can reason about tokens by hand.</summary>
public sealed class CharTokenizer(string alphabet) : Tokenizer
{
    public string Alphabet { get; } = alphabet;

    public int Id(char c) => Alphabet.IndexOf(c) is var i and >= 0 ? i : throw new ArgumentException($"'{c}' is not in the test alphabet");

    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        var s = text ?? textSpan.ToString();
        var tokens = s.Select((c, i) => new EncodedToken(Id(c), c.ToString(), new Range(i, i + 1))).ToList();
        return new EncodeResults<EncodedToken> { Tokens = tokens, CharsConsumed = s.Length };
    }

    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten)
    {
        idsConsumed = charsWritten = 0;
        foreach (var id in ids)
        {
            if (charsWritten == destination.Length) return OperationStatus.DestinationTooSmall;
            destination[charsWritten++] = Alphabet[id];
            idsConsumed++;
        }
        return OperationStatus.Done;
    }
}

/// <summary>
/// A bigram model of fixed probabilities: after token x, the ids in <c>next(x)</c> get the probabilities given
/// there and the rest of the mass is spread evenly over the other ids. Its output ignores everything but the
/// last token, so expected log-likelihoods can be written down by hand.
/// </summary>
public sealed class FixedBigramModel(int vocabSize, Func<long, IReadOnlyDictionary<long, double>> next, int maxContext = 64) : ILanguageModel
{
    public int VocabSize => vocabSize;
    public int MaxContext => maxContext;
    public int Calls { get; private set; }

    public double Prob(long previous, long token)
    {
        var fixedProbs = next(previous);
        if (fixedProbs.TryGetValue(token, out var p)) return p;
        return (1 - fixedProbs.Values.Sum()) / (vocabSize - fixedProbs.Count);
    }

    public Tensor LogProbs(long[] tokens)
    {
        Assert.InRange(tokens.Length, 1, MaxContext);
        Calls++;
        var rows = new float[tokens.Length * vocabSize];
        for (int t = 0; t < tokens.Length; t++)
            for (int v = 0; v < vocabSize; v++) rows[t * vocabSize + v] = (float)Math.Log(Prob(tokens[t], v));
        return torch.tensor(rows, new long[] { tokens.Length, vocabSize });
    }
}
