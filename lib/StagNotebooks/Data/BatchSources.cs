using static TorchSharp.torch;

namespace StagNotebooks.Data;

/// <summary>
/// Training batches, deterministic in their index: batch i is the same whenever it is asked for, so a resumed run
/// sees exactly the batches the interrupted one would have.
/// </summary>
public interface IBatchSource
{
    /// <summary>Inputs and next-token targets, both (B, T) int64, for global micro-batch <paramref name="index"/>.</summary>
    (Tensor Inputs, Tensor Targets) Batch(long index, int batchSize, int contextLength, Device device);
}

/// <summary>Validation data: a fixed sequence of windows, and the bytes of raw text per token (for bits per byte).</summary>
public interface IEvalSource
{
    IEnumerable<(Tensor Inputs, Tensor Targets)> Windows(int batchSize, int contextLength, int maxBatches, Device device);
    double BytesPerToken { get; }
}
