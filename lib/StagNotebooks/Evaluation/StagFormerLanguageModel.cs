using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Evaluation;

/// <summary>A StagFormer as an <see cref="ILanguageModel"/>: one teacher-forced forward per call, without gradients.</summary>
public sealed class StagFormerLanguageModel : ILanguageModel
{
    public StagFormerModel Model { get; }
    public Device Device { get; }
    public int VocabSize => Model.Config.VocabSize;
    public int MaxContext => Model.Config.MaxContext;

    public StagFormerLanguageModel(StagFormerModel model, Device? device = null)
    {
        Model = model;
        Device = device ?? model.tok_embeddings.weight!.device;
    }

    public Tensor LogProbs(long[] tokens) => LogProbsBatch(new[] { tokens })[0];

    /// <summary>
    /// One forward over all <paramref name="sequences"/>, right-padded to the longest: every attention of the model
    /// (self k ≤ i, staggered cross k ≤ i − 1) looks only left, so padding after a sequence changes none of its rows.
    /// </summary>
    public IReadOnlyList<Tensor> LogProbsBatch(IReadOnlyList<long[]> sequences) =>
        LogProbsRows(sequences, sequences.Select(s => (0, s.Length)).ToList());

    /// <summary>The forward's logits of the asked rows only, normalised (log-softmax over V on those rows alone).</summary>
    public IReadOnlyList<Tensor> LogProbsRows(IReadOnlyList<long[]> sequences, IReadOnlyList<(int Start, int Count)> rows) => Inference(() =>
    {
        var logits = Model.forward(new ModelInput(Padded(sequences))).Logits;                               // (B, T, V)
        var picked = torch.cat(rows.Select((r, b) => logits[b].narrow(0, r.Start, r.Count)).ToArray(), 0);   // (ΣCount, V)
        var lp = picked.to_type(ScalarType.Float32).log_softmax(-1);
        return (IReadOnlyList<Tensor>)lp.split(rows.Select(r => (long)r.Count).ToArray(), 0).Select(t => t.MoveToOuterDisposeScope()).ToList();
    });

    /// <summary>
    /// The scorer's fast path: the forward up to the head over all positions, then the final norm, unembedding and
    /// log-softmax on the asked rows alone (a sliding window reads about half of its rows, and at small d the
    /// unembedding is most of the forward's arithmetic). Each row's numbers are those of <see cref="LogProbsRows"/>
    /// up to the arithmetic of a matmul of another shape. With logits hooks attached (they see whole (B, T, V) logits)
    /// it takes <see cref="LogProbsRows"/>.
    /// </summary>
    public TokenScores ScoreTargets(IReadOnlyList<long[]> sequences, IReadOnlyList<(int Start, int Count)> rows, long[] targets)
    {
        if (ModelHooks.Current is not null)
        {
            using var scope = torch.NewDisposeScope();
            return TargetScoring.Pick(torch.cat(LogProbsRows(sequences, rows).ToArray(), 0), targets);
        }
        return Inference(() =>
        {
            var input = Padded(sequences);                                                        // (B, T)
            long length = input.shape[1];
            var final = Model.Final(new ModelInput(input));                                       // (B, T, d)
            var index = rows.SelectMany((r, b) => Enumerable.Range(r.Start, r.Count).Select(t => b * length + t)).ToArray();
            var h = final.flatten(0, 1).index_select(0, torch.tensor(index, device: Device));   // (ΣCount, d)
            return TargetScoring.Pick(Model.Head(h).to_type(ScalarType.Float32).log_softmax(-1), targets);   // (ΣCount, V)
        });
    }

    /// <summary>The sequences right-padded to the longest, (B, T) on the model's device.</summary>
    Tensor Padded(IReadOnlyList<long[]> sequences)
    {
        foreach (var tokens in sequences) Check(tokens);
        int longest = sequences.Max(s => s.Length);
        var padded = new long[sequences.Count * longest];
        for (int b = 0; b < sequences.Count; b++) Array.Copy(sequences[b], 0, padded, b * longest, sequences[b].Length);
        return torch.tensor(padded, new long[] { sequences.Count, longest }, device: Device);
    }

    /// <summary>Runs <paramref name="body"/> without gradients, in eval mode, in a dispose scope; the model goes back the way the caller (e.g. the trainer) left it.</summary>
    T Inference<T>(Func<T> body)
    {
        // Scoring must not run dropout.
        bool wasTraining = Model.training;
        if (wasTraining) Model.eval();
        try
        {
            using var ng = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            return body();
        }
        finally
        {
            if (wasTraining) Model.train();
        }
    }

    void Check(long[] tokens)
    {
        if (tokens.Length == 0 || tokens.Length > MaxContext)
            throw new ArgumentException($"{tokens.Length} tokens: a call takes 1 to MaxContext = {MaxContext} tokens (score longer texts with TokenScoring)");
        foreach (var t in tokens)
            if (t < 0 || t >= VocabSize) throw new ArgumentException($"token id {t} is outside the model's vocabulary [0, {VocabSize}): does the tokenizer match the model?");
    }
}
