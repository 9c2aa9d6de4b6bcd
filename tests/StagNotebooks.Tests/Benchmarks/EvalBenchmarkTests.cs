using StagNotebooks.Benchmarks;
using TorchSharp;

namespace StagNotebooks.Tests.Benchmarks;

public class EvalBenchmarkTests
{
    [Fact]
    public void The_eval_bench_scores_every_token_of_its_documents_three_ways()
    {
        var r = EvalBenchmark.Run("smoke", "separate-2xh", maxDocs: 2, repeats: 1, torch.CPU);
        Assert.Equal(2, r.Documents);
        Assert.True(r.TokensScored > 0);
        Assert.All(new[] { r.BatchedTokensPerSecond, r.OneByOneTokensPerSecond, r.TrainingForwardTokensPerSecond }, v => Assert.True(double.IsFinite(v) && v > 0));
        Assert.Equal(r.BatchedTokensPerSecond / r.TrainingForwardTokensPerSecond, r.BatchedOverTrainingForward, 12);
        Assert.Contains("no-such-variant", Assert.Throws<StagNotebooks.Model.ConfigException>(() => EvalBenchmark.Run("smoke", "no-such-variant", 1, 1, torch.CPU)).Message);
    }
}
