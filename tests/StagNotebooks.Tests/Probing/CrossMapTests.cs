using StagNotebooks.Model;
using StagNotebooks.Probing;
using StagNotebooks.Reporting;
using StagNotebooks.Tests.Model;
using TorchSharp;

namespace StagNotebooks.Tests.Probing;

/// <summary>The cross-attention picture: the null slot as its own column, every row summing to 1, per head or averaged.</summary>
public class CrossMapTests
{
    [Fact]
    public void Every_row_with_its_null_column_sums_to_one_per_head_and_on_average()
    {
        var c = Variants.Get("p2-Separate-wfull");
        using var model = Variants.Model(c);
        using var capture = ActivationCapture.Start();
        using (torch.no_grad()) model.forward(new ModelInput(Variants.Tokens(c)));
        var mean = AttentionAnalysis.CrossMap(capture, 1, 0);
        var heads = Enumerable.Range(0, c.Heads).Select(h => AttentionAnalysis.CrossMap(capture, 1, 0, h)).ToList();
        foreach (var map in heads.Append(mean))
            foreach (var row in map) Assert.Equal(1.0, row.Sum(), 5);
        Assert.Equal(1.0, mean[0][0], 6);                          // position 0 sees no memory: all its weight on the null slot
        Assert.True(mean[^1][0] < 1.0);                            // later positions put some weight on memory
        for (int t = 0; t < mean.Length; t++)                      // the mean map is the mean of the heads' maps
            for (int k = 0; k < mean[t].Length; k++) Assert.True(Math.Abs(heads.Average(h => h[t][k]) - mean[t][k]) < 1e-6, $"row {t}, column {k}");   // float32 mean
        var labels = Enumerable.Range(0, mean.Length).Select(i => i.ToString()).ToList();
        var fig = ProbingCharts.CrossAttentionMap(mean, labels, labels, "t");
        Assert.Equal("∅ null", (string?)fig.Layout["xaxis"]!["ticktext"]![0]);
        Assert.Equal(mean.Length + 1, fig.Layout["xaxis"]!["ticktext"]!.AsArray().Count);
    }
}
