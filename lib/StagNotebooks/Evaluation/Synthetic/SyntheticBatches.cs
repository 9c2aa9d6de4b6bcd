using StagNotebooks.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Evaluation.Synthetic;

/// <summary>
/// Batches of a synthetic task generated on the fly: batch i of seed s is a pure function of (task, s, i), as
/// <see cref="IBatchSource"/> requires. Targets are −100 (cross-entropy's ignore index) except at answer positions,
/// so training optimises the answers only. Evaluation batches use indices training never reaches.
/// </summary>
public sealed class SyntheticBatches(ISyntheticTask task, long seed) : IBatchSource
{
    public const long IgnoreIndex = -100;
    public const long EvalOffset = 1L << 40;

    public ISyntheticTask Task { get; } = task;
    public long Seed { get; } = seed;
    /// <summary>The instance seed of this run (fixes Compose's functions).</summary>
    public int Instance => Mix(Seed, -1);

    static int Mix(long seed, long index)
    {
        ulong z = (ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)index * 0xBF58476D1CE4E5B9UL;
        z ^= z >> 31; z *= 0x94D049BB133111EBUL; z ^= z >> 29;
        return (int)(z & 0x7FFFFFFF);
    }

    /// <summary>The samples of batch <paramref name="index"/> (the generator's raw output, for tests and solvers).</summary>
    public IReadOnlyList<SyntheticSample> Samples(long index, int batchSize)
    {
        var rng = new Random(Mix(Seed, index));
        return Enumerable.Range(0, batchSize).Select(_ => Task.Generate(rng, Instance)).ToArray();
    }

    public (Tensor Inputs, Tensor Targets) Batch(long index, int batchSize, int contextLength, Device device)
    {
        if (contextLength != Task.Length)
            throw new ArgumentException($"task {Task.Name} was built for length {Task.Length}, the trainer asks for {contextLength}");
        var samples = Samples(index, batchSize);
        var x = new long[batchSize * contextLength];
        var y = Enumerable.Repeat(IgnoreIndex, batchSize * contextLength).ToArray();
        for (int b = 0; b < batchSize; b++)
        {
            var s = samples[b];
            Array.Copy(s.Tokens, 0, x, b * contextLength, contextLength);
            for (int j = 0; j < s.AnswerPositions.Length; j++) y[b * contextLength + s.AnswerPositions[j]] = s.Answers[j];
        }
        var shape = new long[] { batchSize, contextLength };
        return (torch.tensor(x, shape, device: device), torch.tensor(y, shape, device: device));
    }

    /// <summary>The fixed evaluation set: <paramref name="batches"/> batches none of which training sees.</summary>
    public IEnumerable<(Tensor Inputs, Tensor Targets)> EvalBatches(int batches, int batchSize, Device device)
    {
        for (int i = 0; i < batches; i++) yield return Batch(EvalOffset + i, batchSize, Task.Length, device);
    }
}
