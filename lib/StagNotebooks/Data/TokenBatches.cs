using TorchSharp;
using static TorchSharp.torch;

namespace StagNotebooks.Data;

/// <summary>
/// Training batches: B random windows of T+1 tokens from a token file. Batch i depends only on (seed, i) — the
/// random generator is seeded per batch — so a resumed run reads exactly the batches it would have.
/// </summary>
public sealed class RandomWindowBatches(TokenFile file, long seed) : IBatchSource
{
    public (Tensor Inputs, Tensor Targets) Batch(long index, int batchSize, int contextLength, Device device)
    {
        if (file.Count < contextLength + 2) throw new InvalidDataException($"{file.Path}: {file.Count} tokens cannot fill a window of {contextLength + 1}");
        var rng = new Random(unchecked((int)(seed * 1_000_003 + index * 7_919 + 17)));   // seeded System.Random is the same on every platform
        var x = new long[batchSize * contextLength];
        var y = new long[batchSize * contextLength];
        for (int b = 0; b < batchSize; b++)
        {
            long start = rng.NextInt64(0, file.Count - contextLength - 1);
            var w = file.Read(start, contextLength + 1);
            Array.Copy(w, 0, x, b * contextLength, contextLength);
            Array.Copy(w, 1, y, b * contextLength, contextLength);
        }
        return (torch.tensor(x, new long[] { batchSize, contextLength }, device: device), torch.tensor(y, new long[] { batchSize, contextLength }, device: device));
    }
}

/// <summary>Evaluation windows: the split read from the start in non-overlapping windows of T+1 tokens, always the same ones.</summary>
public sealed class SequentialWindows(TokenFile file, double bytesPerToken) : IEvalSource
{
    public double BytesPerToken => bytesPerToken;

    public IEnumerable<(Tensor Inputs, Tensor Targets)> Windows(int batchSize, int contextLength, int maxBatches, Device device)
    {
        long windows = (file.Count - 1) / contextLength;
        long next = 0;
        for (int batch = 0; batch < maxBatches && next < windows; batch++)
        {
            int rows = (int)Math.Min(batchSize, windows - next);
            var x = new long[rows * contextLength];
            var y = new long[rows * contextLength];
            for (int r = 0; r < rows; r++, next++)
            {
                var w = file.Read(next * contextLength, contextLength + 1);
                Array.Copy(w, 0, x, r * contextLength, contextLength);
                Array.Copy(w, 1, y, r * contextLength, contextLength);
            }
            yield return (torch.tensor(x, new long[] { rows, contextLength }, device: device), torch.tensor(y, new long[] { rows, contextLength }, device: device));
        }
    }
}
