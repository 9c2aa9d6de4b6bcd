using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Decoding;

/// <summary>
/// Recurrent decoding by its definition, slowly: at every position t the one pass is recomputed from scratch over
/// positions 0..t with the memory built so far (the model's own final outputs; pass-1 outputs for a two-pass
/// prompt). No caches, no step mode: the yardstick <see cref="RecurrentDecoder"/> is tested against.
/// </summary>
public static class RecurrentReference
{
    /// <summary>Logits (B, T, V) at every position of <paramref name="tokens"/>, of which the first
    /// <paramref name="promptLength"/> are the prompt.</summary>
    public static Tensor Logits(StagFormerModel model, Tensor tokens, int promptLength, RecurrentPrefill prefill)
    {
        using var ng = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        model.eval();
        long b = tokens.shape[0], t = tokens.shape[1], d = model.Config.DModel;
        var e = model.Embed(tokens, 0);
        var memory = new List<Tensor>();
        var logits = new List<Tensor>();
        int first = 0;
        if (prefill == RecurrentPrefill.TwoPass && promptLength > 0)
        {
            var twoPass = model.forward(new ModelInput(tokens.narrow(1, 0, promptLength), KeepStackOutputs: true));
            for (int i = 0; i < promptLength; i++) memory.Add(twoPass.StackOutputs![0].narrow(1, i, 1));   // pass-1 outputs
            logits.Add(twoPass.Logits);
            first = promptLength;
        }
        for (int pos = first; pos < t; pos++)
        {
            // The memory at pos itself is never visible (lag 1); a zero entry there keeps the shapes aligned.
            var mem = torch.cat(memory.Append(torch.zeros(b, 1, d, dtype: e.dtype, device: e.device)).ToArray(), 1);   // (B, pos+1, d)
            var h = model.StackFor(1).forward(new StackInput(e.narrow(1, 0, pos + 1), 0, model.rope, Memory: new StackMemory(mem), Pass: 1));
            var last = h.narrow(1, pos, 1);                                                          // (B, 1, d)
            memory.Add(last);
            logits.Add(model.Head(last));
        }
        return torch.cat(logits, 1).MoveToOuterDisposeScope();
    }
}
