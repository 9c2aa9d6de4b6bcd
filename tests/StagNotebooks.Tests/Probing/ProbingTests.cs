using StagNotebooks.Model;
using StagNotebooks.Probing;
using StagNotebooks.Tests.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Probing;

public class ProbingTests
{
    [Theory]
    [InlineData(null, EmptyCrossAttention.NullSlot, WeightSharing.Separate)]
    [InlineData(3, EmptyCrossAttention.NullSlot, WeightSharing.Shared)]
    [InlineData(null, EmptyCrossAttention.Zero, WeightSharing.Separate)]
    [InlineData(1, EmptyCrossAttention.Zero, WeightSharing.Separate)]
    public void Captured_attention_rows_sum_to_1_and_respect_the_masks(int? window, EmptyCrossAttention empty, WeightSharing weights)
    {
        var c = Variants.Tiny with { Stacks = 3, CrossWindow = window, EmptyCross = empty, Weights = weights };
        using var scope = torch.NewDisposeScope();
        using var ng = torch.no_grad();
        var m = Variants.Model(c);
        var tokens = Variants.Tokens(c);
        using var capture = ActivationCapture.Start();
        m.forward(new ModelInput(tokens));
        Assert.Equal(c.Stacks * c.LayersPerStack, capture.SelfAttention.Count);
        Assert.Equal((c.Stacks - 1) * c.LayersPerStack, capture.CrossAttention.Count);
        foreach (var (key, p) in capture.SelfAttention)
        {
            Variants.AssertClose(torch.ones(p.shape[0], p.shape[1], p.shape[2]), p.sum(-1), 1e-5, $"self {key} rows");
            Assert.Equal(0, p.triu(1).abs().sum().item<float>());                                    // nothing after the query
        }
        foreach (var (key, p) in capture.CrossAttention)
        {
            var keys = capture.CrossKeyPositions[key];
            var queries = capture.QueryPositions[key];
            var total = p.sum(-1);                                                                   // (B, H, T)
            if (capture.CrossNullMass.TryGetValue(key, out var nullMass)) total = total + nullMass;
            for (int i = 0; i < queries.Length; i++)
            {
                bool empty0 = empty == EmptyCrossAttention.Zero && !keys.Any(k => k < queries[i]);
                Variants.AssertClose(torch.full(p.shape[0], p.shape[1], empty0 ? 0f : 1f), total.select(2, i), 1e-5, $"cross {key} row {i}");
                for (int j = 0; j < keys.Length; j++)
                {
                    bool allowed = keys[j] <= queries[i] - 1 && (window is null || keys[j] >= queries[i] - window);
                    if (!allowed) Assert.Equal(0f, p.select(2, i).select(2, j).abs().max().item<float>());
                }
            }
        }
        var lags = AttentionAnalysis.CrossAttentionLag(capture, maxLag: Variants.T);
        Assert.All(lags, l => Assert.InRange(l.MassByLag.Sum() + l.NullMass, 0.999, 1.001));
        if (window is int w) Assert.All(lags, l => Assert.True(l.MassByLag.Skip(w).All(x => x == 0), "mass outside the window"));
    }

    [Fact]
    public void Capturing_does_not_change_the_logits()
    {
        var c = Variants.Tiny with { Stacks = 2, CrossWindow = 3 };
        using var scope = torch.NewDisposeScope();
        using var ng = torch.no_grad();
        var m = Variants.Model(c);
        var tokens = Variants.Tokens(c);
        var plain = m.forward(new ModelInput(tokens)).Logits;
        Tensor captured;
        using (var capture = ActivationCapture.Start()) captured = m.forward(new ModelInput(tokens)).Logits;
        Assert.True(plain.eq(captured).all().item<bool>());
        Assert.Null(ActivationCapture.Current);
    }

    [Fact]
    public void The_logit_lens_at_the_last_layer_is_the_models_prediction()
    {
        var c = Variants.Tiny with { Stacks = 2 };
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(c);
        var tokens = Variants.Tokens(c);
        var rows = LogitLens.Run(m, tokens);
        Assert.Equal(c.Stacks * c.LayersPerStack, rows.Count);
        var last = rows.Single(r => r.Pass == c.Stacks - 1 && r.Layer == c.LayersPerStack - 1);
        Assert.Equal(1.0, last.Top1AgreementWithModel);
        using var ng = torch.no_grad();
        var logits = m.forward(new ModelInput(tokens)).Logits.narrow(1, 0, Variants.T - 1);
        double loss = nn.functional.cross_entropy(logits.reshape(-1, c.VocabSize), tokens.narrow(1, 1, Variants.T - 1).reshape(-1)).item<float>();
        Assert.Equal(loss, last.Loss, 4);
    }

    [Fact]
    public void Cka_is_1_for_a_rotated_copy_and_a_pass_with_itself()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(2);
        var x = torch.randn(50, 8);
        var q = torch.linalg.qr(torch.randn(8, 8)).Q;
        Assert.Equal(1.0, Cka.Linear(x, torch.matmul(x, q) * 3), 6);
        Assert.True(Cka.Linear(x, torch.randn(50, 8)) < 0.5);
        var m = Variants.Model(Variants.Tiny with { Stacks = 2 });
        using var capture = ActivationCapture.Start(attention: false);
        using (torch.no_grad()) m.forward(new ModelInput(Variants.Tokens(m.Config)));
        var cka = Cka.BetweenPasses(capture, 0, 0);
        Assert.Equal(1.0, cka[0, 0], 6);
    }

    [Fact]
    public void Recurrent_drift_is_zero_at_the_first_generated_position_and_grows_after()
    {
        var c = Variants.Tiny with { Stacks = 2, Weights = WeightSharing.Shared };
        using var scope = torch.NewDisposeScope();
        var m = Variants.Model(c);
        var points = RecurrentDrift.Measure(m, Variants.Tokens(c, batch: 1), promptLength: 4);
        Assert.Equal(4, points[0].Position);
        Assert.True(points[0].RelativeDistance < 1e-5, $"first step drift {points[0].RelativeDistance}");
        Assert.Equal(points[0].TwoPassLoss, points[0].RecurrentLoss, 4);
        Assert.True(points.Skip(1).Max(p => p.RelativeDistance) > 1e-3);
    }
}
