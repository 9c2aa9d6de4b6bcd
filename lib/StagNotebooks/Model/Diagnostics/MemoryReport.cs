namespace StagNotebooks.Model;

/// <summary>How a decoding session's memory is spent: weights, self-attention KV and cross-attention KV.</summary>
public sealed record MemoryReport(long WeightBytes, long SelfKvBytes, long CrossKvBytes)
{
    public long TotalBytes => WeightBytes + SelfKvBytes + CrossKvBytes;

    /// <summary>
    /// Bytes for a batch of sequences of <paramref name="context"/> positions. Self KV: every pass keeps K and V of
    /// every layer (d values each per position). Cross KV: passes 2..p keep K and V of the memory per layer, only the
    /// last w positions when windowed. These are the sizes <see cref="StagCache"/> allocates.
    /// </summary>
    public static MemoryReport For(StagFormerConfig c, long batch, int context, int bytesPerElement = 4)
    {
        long perPosition = 2L * c.DModel * bytesPerElement * batch;                       // K and V
        long crossPositions = (c.CrossWindow is int w ? Math.Min(w, context) : context)
                              + (c.EmptyCross == EmptyCrossAttention.NullSlot ? 1 : 0);   // + the null slot kept in the cache
        long weights = ParameterReport.Total(ParameterReport.Expected(c)) * bytesPerElement;
        return new MemoryReport(
            weights,
            (long)c.Stacks * c.LayersPerStack * perPosition * context,
            (long)(c.Stacks - 1) * c.LayersPerStack * perPosition * crossPositions);
    }
}
