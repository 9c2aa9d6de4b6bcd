using StagNotebooks.Data;
using StagNotebooks.Decoding;
using StagNotebooks.Model;
using StagNotebooks.Runtime;
using StagNotebooks.Training;
using StagNotebooks.Workbench;
using TorchSharp;
using static TorchSharp.torch;
using StagNotebooks.Experiments;

namespace StagNotebooks.Tests.Model;

/// <summary>The small defects of issue 14, one test each.</summary>
public class SmallDefectTests
{
    [Fact]
    public void Decoding_engines_switch_a_model_left_in_train_mode_to_eval_so_dropout_never_runs()
    {
        var c = Variants.Tiny with { Stacks = 2, Dropout = 0.5 };
        using var m = Variants.Model(c);
        var tokens = Variants.Tokens(c);
        using var ng = torch.no_grad();
        m.eval();
        using var want = m.forward(new ModelInput(tokens)).Logits;                  // (B, T, V)
        foreach (IDecodingEngine engine in new IDecodingEngine[] { new SequentialDecoder(m), new StackedDecoder(Variants.Model(c with { Weights = WeightSharing.Shared })) })
        {
            var model = engine is SequentialDecoder s ? s.Model : ((StackedDecoder)engine).Model;
            model.train();
            using var reference = ((Func<Tensor>)(() => { model.eval(); var l = model.forward(new ModelInput(tokens)).Logits; model.train(); return l; }))();
            using var session = engine.Start(tokens.shape[0]);
            using var got = session.Prefill(tokens);
            Assert.False(model.training, $"{engine.Name}: the model is still in train mode");
            Assert.True(got.allclose(reference, rtol: 1e-4, atol: 1e-5), $"{engine.Name}: logits differ from eval mode (dropout ran)");
        }
        m.train();
        using var shared = Variants.Model(c with { Weights = WeightSharing.Shared });
        shared.train();
        using var rr1 = RecurrentReference.Logits(shared, tokens, 3, RecurrentPrefill.TwoPass);
        shared.train();
        using var rr2 = RecurrentReference.Logits(shared, tokens, 3, RecurrentPrefill.TwoPass);
        Assert.True(rr1.eq(rr2).all().item<bool>(), "the recurrent reference ran dropout");
    }

    [Fact]
    public void The_recurrent_reference_runs_in_the_model_dtype()
    {
        var c = Variants.Tiny with { Stacks = 2, Weights = WeightSharing.Shared };
        using var m = Variants.Model(c);
        m.to(ScalarType.BFloat16);
        var tokens = Variants.Tokens(c);
        using var logits = RecurrentReference.Logits(m, tokens, 3, RecurrentPrefill.TwoPass);   // a float32 zero row made this fail
        Assert.Equal(ScalarType.BFloat16, logits.dtype);
    }

    [Fact]
    public void RoPE_rows_are_made_once_per_position_when_threads_race_for_them()
    {
        var rope = new RotaryEmbedding(8, 64, 10000);
        var results = new Tensor[8][];
        var start = new Barrier(8);
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            start.SignalAndWait();
            results[i] = Enumerable.Range(0, 64).Select(pos => { using var x = torch.ones(1, 1, 1, 8); return rope.Apply(x, pos); }).ToArray();
        });
        Assert.Equal(64, rope.RowsMade);
        using var all = torch.ones(1, 1, 64, 8);
        using var full = rope.Apply(all, 0);                                       // (1, 1, 64, 8)
        for (int i = 0; i < 8; i++)
            for (int pos = 0; pos < 64; pos++)
                Assert.True(results[i][pos].allclose(full.narrow(2, pos, 1)), $"thread {i}, position {pos}");
    }

    [Fact]
    public void The_roofline_is_cached_per_device_and_thread_count()
    {
        var keys = new[] { (DeviceType.CPU, -1L, 2), (DeviceType.CPU, -1L, 1), (DeviceType.CUDA, 0L, 2), (DeviceType.CUDA, 1L, 2) }
            .Select(k => Roofline.Key(k.Item1, k.Item2, k.Item3)).ToList();
        Assert.Equal(4, keys.Distinct().Count());
        Assert.Same(Roofline.Of(torch.CPU), Roofline.Of(torch.CPU));
    }

    [Fact]
    public void Reused_is_set_by_finding_a_finished_run_not_by_how_long_it_took()
    {
        using var dir = new TestPaths.TempDir();
        var data = ExperimentRuns.Data();
        var config = ExperimentRuns.Config("smoke", "baseline-h", data, overrides: new[] { "MaxSteps=2", "EvalEvery=2", "CheckpointEvery=2" });
        var first = ExperimentRuns.Train(config, "baseline-h", data, dir.Path);
        Assert.False(first.Reused);                 // trained here (in well under a second: the old rule called that "reused")
        var second = ExperimentRuns.Train(config, "baseline-h", data, dir.Path);
        Assert.True(second.Reused);
        Assert.Equal(first.Metrics.Select(m => m.Loss), second.Metrics.Select(m => m.Loss));
    }
}
