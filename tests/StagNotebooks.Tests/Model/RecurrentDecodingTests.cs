using StagNotebooks.Decoding;
using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Model;

public class RecurrentDecodingTests
{
    [Theory]
    [InlineData(RecurrentPrefill.TwoPass, null)]
    [InlineData(RecurrentPrefill.Recurrent, null)]
    [InlineData(RecurrentPrefill.TwoPass, 2)]
    [InlineData(RecurrentPrefill.Recurrent, 1)]
    public void Recurrent_decoding_equals_its_slow_definition_and_differs_from_two_pass(RecurrentPrefill prefill, int? window)
    {
        var c = Variants.Tiny with { Stacks = 2, Weights = WeightSharing.Shared, CrossWindow = window };
        using var scope = torch.NewDisposeScope();
        using var ng = torch.no_grad();
        var m = Variants.Model(c);
        var tokens = Variants.Tokens(c);
        const int prompt = 4;
        var reference = RecurrentReference.Logits(m, tokens, prompt, prefill);

        using var session = new RecurrentDecoder(m, prefill).Start(tokens.shape[0]);
        var got = new List<Tensor> { session.Prefill(tokens.narrow(1, 0, prompt)) };
        for (int i = prompt; i < Variants.T; i++) got.Add(session.Step(tokens.narrow(1, i, 1)).unsqueeze(1));
        Variants.AssertClose(reference, torch.cat(got, 1), 1e-4, "recurrent engine vs definition");

        var twoPass = m.forward(new ModelInput(tokens)).Logits;
        var after = prefill == RecurrentPrefill.TwoPass ? prompt + 1 : 1;   // first position whose memory differs
        Assert.True((twoPass.narrow(1, after, Variants.T - after) - reference.narrow(1, after, Variants.T - after)).abs().max().item<float>() > 1e-3,
            "recurrent decoding should differ from two-pass decoding");
        if (prefill == RecurrentPrefill.TwoPass)
            Variants.AssertClose(twoPass.narrow(1, 0, prompt + 1), reference.narrow(1, 0, prompt + 1), 1e-4, "up to the first generated position it is the two-pass model");
    }

    [Fact]
    public void Recurrent_decoding_needs_a_shared_two_pass_model()
    {
        var e = Assert.Throws<ArgumentException>(() => new RecurrentDecoder(Variants.Model(Variants.Tiny with { Stacks = 2 })));
        Assert.Equal("recurrent decoding needs a shared-weights StagFormer with 2 passes (Weights = Shared, Stacks = 2)", e.Message);
    }
}
