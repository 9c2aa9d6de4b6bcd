using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Runtime;

/// <summary>
/// Tensor arithmetic whose <see cref="Scalar"/> arguments stay alive until libtorch has returned.
/// Why: TorchSharp 0.107 turns a number — and the hidden alpha = 1 of <c>a + b</c> — into a Scalar that only its
/// finalizer frees, and the Scalar's last reference dies as soon as its handle is read. In optimised code a garbage
/// collection started by another thread (the parallel decoder's stack workers, a notebook kernel's threads, tests
/// side by side) can then queue the finalizer, which frees the Scalar while the native call still reads it: libtorch
/// fails with "Expected false to be true" from c10::Scalar::toFloat. The model's forward passes and the decoding
/// engines use these instead of the operators.
/// </summary>
public static class HeldScalars
{
    static readonly Scalar One = 1.ToScalar();   // lives as long as the process: never finalized

    /// <summary>a + b.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary>a += b, in place; returns a.</summary>
    public static Tensor PlusInPlace(this Tensor a, Tensor b) => a.add_(b, One);

    /// <summary>a · s.</summary>
    public static Tensor Times(this Tensor a, double s)
    {
        using var held = s.ToScalar();
        return a.mul(held);
    }

    /// <summary>a / s.</summary>
    public static Tensor DividedBy(this Tensor a, double s)
    {
        using var held = s.ToScalar();
        return a.div(held);
    }

    /// <summary>a − s (integer tensors stay integer).</summary>
    public static Tensor Minus(this Tensor a, long s)
    {
        using var held = s.ToScalar();
        return a.sub(held);
    }

    /// <summary>a with value where mask is true.</summary>
    public static Tensor Filled(this Tensor a, Tensor mask, float value)
    {
        using var held = value.ToScalar();
        return a.masked_fill(mask, held);
    }
}
