using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Model;

/// <summary>
/// What one cross-attention layer adds to its stack's residual stream, on a batch. <see cref="RmsRatio"/>: the RMS of
/// its output over the RMS of the token embedding matrix. <see cref="ConstantShare"/>: the share of the output's mean
/// square that is one vector for every position and sequence (‖mean y‖² / mean ‖y‖²; 1 = a constant). 
/// <see cref="UnigramCorrelation"/>: the Pearson correlation, over the vocabulary, of that mean vector's direct logit
/// contribution (unembedding · final-norm weight ⊙ mean y) with the log unigram frequencies of the batch's targets.
/// A layer with a large ratio, a share near 1 and a correlation near 1 has become a unigram bias (STAGFORMER.md §7).
/// </summary>
public sealed record CrossOutputStats(int Pass, int Layer, double RmsRatio, double ConstantShare, double UnigramCorrelation);

/// <summary>Measures <see cref="CrossOutputStats"/> for every cross-attention layer with one teacher-forced forward.</summary>
public static class CrossOutputDiagnostic
{
    /// <param name="tokens">(B, T) inputs</param>
    /// <param name="targets">(B, T) next tokens, for the unigram frequencies (add-one smoothed)</param>
    public static IReadOnlyList<CrossOutputStats> Measure(StagFormerModel model, Tensor tokens, Tensor targets)
    {
        if (model.Config.IsBaseline) return Array.Empty<CrossOutputStats>();
        using var scope = torch.NewDisposeScope();
        using var ng = torch.no_grad();
        bool wasTraining = model.training;
        model.eval();
        var recorder = new Recorder();
        var previous = ActivationObservers.Attach(recorder);
        try { model.forward(new ModelInput(tokens)); }
        finally { ActivationObservers.Restore(previous); if (wasTraining) model.train(); }
        foreach (var o in recorder.Outputs) scope.Attach(o.Y);   // copies made deep inside the forward: this scope frees them

        var embedding = model.tok_embeddings.weight!;                                      // (V, d)
        double embeddingRms = (embedding * embedding).mean().sqrt().item<float>();   // products, not pow(2): no Scalar (HeldScalars says why)
        var unembed = model.lm_head?.weight ?? embedding;                                   // (V, d)
        var counts = torch.bincount(targets.flatten(), minlength: model.Config.VocabSize).to(ScalarType.Float32) + torch.ones(model.Config.VocabSize);
        var logUnigram = (counts / counts.sum()).log();                                     // (V)
        var normWeight = model.final_norm.weight!.to(ScalarType.Float32);
        return recorder.Outputs.Select(o => Summarize(o.Pass, o.Layer, o.Y, embeddingRms, unembed.to(ScalarType.Float32), normWeight, logUnigram)).ToList();
    }

    /// <summary>The statistics of one layer's output y (B, T, d), given the unembedding (V, d), the final norm's weight (d) and log unigram frequencies (V).</summary>
    internal static CrossOutputStats Summarize(int pass, int layer, Tensor y, double embeddingRms, Tensor unembed, Tensor normWeight, Tensor logUnigram)
    {
        using var scope = torch.NewDisposeScope();
        var flat = y.to(ScalarType.Float32).reshape(-1, y.shape[^1]);                      // (B·T, d)
        var mean = flat.mean(new long[] { 0 });                                             // (d)
        double meanSquare = (flat * flat).sum(1).mean().item<float>();
        double share = meanSquare == 0 ? 0 : (mean * mean).sum().item<float>() / meanSquare;
        var contribution = torch.mv(unembed, normWeight * mean);                          // (V)
        return new CrossOutputStats(pass, layer, Math.Sqrt(meanSquare / flat.shape[1]) / embeddingRms, share, Pearson(contribution, logUnigram));
    }

    static double Pearson(Tensor a, Tensor b)
    {
        var x = a - a.mean();
        var y = b - b.mean();
        double denominator = Math.Sqrt((x * x).sum().item<float>() * (double)(y * y).sum().item<float>());
        return denominator == 0 ? 0 : (x * y).sum().item<float>() / denominator;
    }

    /// <summary>Keeps a copy of every cross output of the forward, with the pass it came from.</summary>
    sealed class Recorder : IActivationObserver
    {
        int _pass;
        public List<(int Pass, int Layer, Tensor Y)> Outputs { get; } = new();
        public void BeginPass(int pass) => _pass = pass;
        public void RecordResidual(int layer, Tensor x) { }
        public void RecordSelfAttention(int layer, Tensor q, Tensor k, int start) { }
        public void RecordCrossAttention(int layer, Tensor q, Tensor k, bool hasNull, Tensor? visible, long[] keyPositions, int start) { }
        public void RecordCrossOutput(int layer, Tensor y) => Outputs.Add((_pass, layer, y.detach().clone().DetachFromDisposeScope()));
    }
}
