using StagNotebooks.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Tests.Model;

/// <summary>
/// TorchSharp frees a Scalar made from a number only in its finalizer; in optimised code a garbage collection started
/// on another thread could free it while libtorch still read it ("Expected false to be true" from
/// c10::Scalar::toFloat; seen in CI in a residual add; under the storm below the parallel decoder failed the same way,
/// and so did <c>A * 0.5</c> within 3 s in each of three runs). <see cref="HeldScalars"/> keeps each Scalar alive
/// through its call: every helper runs, optimised, beside a thread that collects garbage nonstop, and must give the
/// operator's result every time.
/// </summary>
public class ScalarLifetimeTests
{
    /// <summary>Young-generation collections in a loop on another thread until disposed.</summary>
    sealed class GarbageStorm : IDisposable
    {
        volatile bool _stop;
        readonly Thread _thread;
        public long Collections;

        public GarbageStorm()
        {
            _thread = new Thread(() => { while (!_stop) { GC.Collect(0); Collections++; } }) { IsBackground = true, Name = "garbage-storm" };
            _thread.Start();
        }

        public void Dispose() { _stop = true; _thread.Join(); }
    }

    // Made outside any dispose scope: they live for the whole test.
    readonly Tensor A = torch.arange(6, dtype: ScalarType.Float32), B = torch.ones(6), Positions = torch.arange(6, dtype: ScalarType.Int64);
    readonly Tensor Mask;

    public ScalarLifetimeTests() => Mask = A > 2.5;

    public static TheoryData<string> Helpers() => new() { "Plus", "PlusInPlace", "Times", "DividedBy", "Minus", "Filled" };

    // One call of the helper, checked against the values the operator gives.
    void Once(string helper)
    {
        using var scope = torch.NewDisposeScope();
        var (got, want) = helper switch
        {
            "Plus" => (A.Plus(B), new[] { 1f, 2, 3, 4, 5, 6 }),
            "PlusInPlace" => (A.clone().PlusInPlace(B), new[] { 1f, 2, 3, 4, 5, 6 }),
            "Times" => (A.Times(0.5), new[] { 0f, 0.5f, 1, 1.5f, 2, 2.5f }),
            "DividedBy" => (A.DividedBy(2), new[] { 0f, 0.5f, 1, 1.5f, 2, 2.5f }),
            "Minus" => (Positions.Minus(2).to(ScalarType.Float32), new[] { -2f, -1, 0, 1, 2, 3 }),
            "Filled" => (A.Filled(Mask, -1f), new[] { 0f, 1, 2, -1, -1, -1 }),
            _ => throw new ArgumentException(helper),
        };
        Assert.Equal(want, got.data<float>().ToArray());
    }

    [Theory]
    [MemberData(nameof(Helpers))]
    public void Helper_gives_the_operators_result_while_another_thread_collects_garbage(string helper)
    {
        // Warm up until tiered compilation has optimised the call (it recompiles after a quiet 100 ms).
        for (int warm = 0; warm < 3; warm++)
        {
            for (int i = 0; i < 50; i++) Once(helper);
            Thread.Sleep(200);
        }
        long calls = 0, collections;
        using (var storm = new GarbageStorm())
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < 1.5) { Once(helper); calls++; }
            collections = storm.Collections;
        }
        Assert.True(collections > 100, $"only {collections} collections during {calls} calls");
    }
}
