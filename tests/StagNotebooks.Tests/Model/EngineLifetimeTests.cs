using StagNotebooks.Decoding;
using StagNotebooks.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Model;

/// <summary>Counts every live tensor of the process: nothing else may run beside it.</summary>
[CollectionDefinition("live tensors", DisableParallelization = true)]
public sealed class LiveTensorCollection;

/// <summary>
/// Engines own what they allocate: after a session and the engine are disposed, every tensor they made (stacked and
/// folded weights, caches, RoPE rows, pending memory of the thread engine) is freed. Counted by TorchSharp's live
/// tensor count over all threads (the thread engine makes tensors on its workers), with no other test running. The
/// count after is taken without a garbage collection: a tensor nobody disposed still counts (the engine is kept alive).
/// </summary>
[Collection("live tensors")]
public class EngineLifetimeTests
{
    public static TheoryData<string, string> Cases()
    {
        var d = new TheoryData<string, string>();
        foreach (var kind in EngineKinds.Kinds)
            foreach (var variant in new[] { "p2-Separate-wfull", "p3-Shared-gate-layer-w3", "p2-Shared-wfull", "p1" })
                if (Applies(kind, Variants.Get(variant))) d.Add(kind.Name(), variant);
        return d;
    }

    static bool Applies(EngineKind kind, StagFormerConfig c) =>
        !kind.IsRecurrent() || (c.Weights == WeightSharing.Shared && c.Stacks == 2);

    /// <summary>Live tensors once earlier garbage (tensors nobody holds) has been finalized.</summary>
    static long LiveAfterCollection()
    {
        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
        return Tensor.TotalCount;
    }

    /// <summary>A session's whole life: prefill, steps, a rollback and a second prefill, then both disposed. The test's own
    /// views of the tokens and the logits are freed by the scope; what the engine detached from it is the engine's to free.</summary>
    static IDecodingEngine Decode(StagFormerModel m, EngineKind kind, Tensor tokens)
    {
        using var scope = torch.NewDisposeScope();
        using var engine = EngineKinds.Create(m, kind, new EngineOptions(ThreadsPerStack: 1));
        using (var session = engine.Start(tokens.shape[0]))
        {
            session.Prefill(tokens.narrow(1, 0, 3)).Dispose();
            for (int i = 3; i < 6; i++) session.Step(tokens.narrow(1, i, 1)).Dispose();
            if (kind != EngineKind.RecurrentSelfPrefill && m.Config.CrossWindow is null)
            {
                session.Truncate(4);
                if (!kind.IsRecurrent()) session.Prefill(tokens.narrow(1, 4, 2)).Dispose();
            }
        }
        return engine;
    }

    [Theory, MemberData(nameof(Cases))]
    public void Disposing_a_session_and_its_engine_frees_every_tensor_they_made(string engine, string variant)
    {
        var kind = EngineKinds.Parse(engine);
        var c = Variants.Get(variant);
        using var m = Variants.Model(c);
        using var tokens = Variants.Tokens(c);
        Decode(m, kind, tokens);             // the model's own lazy tables (RoPE rows and matrices) are made here, once
        long before = LiveAfterCollection();
        var used = Decode(m, kind, tokens);
        Assert.Equal(before, Tensor.TotalCount);
        GC.KeepAlive(used);
    }

    [Fact]
    public void The_count_sees_an_engine_that_is_not_disposed()
    {
        var c = Variants.Get("p2-Separate-wfull");
        using var m = Variants.Model(c);
        using var tokens = Variants.Tokens(c);
        Decode(m, EngineKind.Stacked, tokens);
        long before = LiveAfterCollection();
        var engine = EngineKinds.Create(m, EngineKind.Stacked);   // stacked weights: a copy of the separate ones
        Assert.True(Tensor.TotalCount > before, "an engine holding stacked weights added no live tensor");
        engine.Dispose();
        Assert.Equal(before, Tensor.TotalCount);
    }
}
