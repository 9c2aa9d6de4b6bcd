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

    public Tensor LogProbs(long[] tokens)
    {
        if (tokens.Length == 0 || tokens.Length > MaxContext)
            throw new ArgumentException($"{tokens.Length} tokens: a call takes 1 to MaxContext = {MaxContext} tokens (score longer texts with TokenScoring)");
        foreach (var t in tokens)
            if (t < 0 || t >= VocabSize) throw new ArgumentException($"token id {t} is outside the model's vocabulary [0, {VocabSize}): does the tokenizer match the model?");
        // Scoring must not run dropout; put the model back the way the caller (e.g. the trainer) left it.
        bool wasTraining = Model.training;
        if (wasTraining) Model.eval();
        try
        {
            using var ng = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            var input = torch.tensor(tokens, new long[] { 1, tokens.Length }, device: Device);   // (1, T)
            var logits = Model.forward(new ModelInput(input)).Logits[0];                       // (T, V)
            return logits.to_type(ScalarType.Float32).log_softmax(-1).MoveToOuterDisposeScope();
        }
        finally
        {
            if (wasTraining) Model.train();
        }
    }
}
