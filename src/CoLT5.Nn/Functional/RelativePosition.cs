// T5 relative position buckets (exact for short distances, logarithmic up to max_distance) and the per-head bias
// tensor built from a learned (buckets × heads) table.
using System;
using System.Buffers;
using CoLT5.Tensors;

namespace CoLT5.Nn.Functional;

/// <summary>T5 relative attention bias: bucketing and bias lookup.</summary>
public static class RelativePosition
{
    /// <summary>
    /// The bucket of relative position <paramref name="relative"/> = key − query. Bidirectional: half the buckets for
    /// keys after the query. Within a half, distances below half of it are exact; the rest are spaced
    /// logarithmically up to <paramref name="maxDistance"/>, beyond which everything shares the last bucket.
    /// </summary>
    public static int Bucket(int relative, bool bidirectional, int numBuckets = 32, int maxDistance = 128)
    {
        var bucket = 0;
        int distance;
        if (bidirectional)
        {
            numBuckets /= 2;
            if (relative > 0)
                bucket += numBuckets;
            distance = Math.Abs(relative);
        }
        else
        {
            distance = -Math.Min(relative, 0);
        }
        var maxExact = numBuckets / 2;
        if (distance < maxExact)
            return bucket + distance;
        // log computed in float32, as the Hugging Face implementation does (identical buckets in float64).
        var scaled = MathF.Log(distance / (float)maxExact) / MathF.Log(maxDistance / (float)maxExact)
            * (numBuckets - maxExact);
        return bucket + Math.Min(numBuckets - 1, maxExact + (int)scaled);
    }

    /// <summary>Bucket ids (int32) for every (query i, key j) pair: (qLen, kLen), using key − query offsets
    /// <paramref name="queryOffset"/> for the first query (decoding steps start later than 0).</summary>
    /// <remarks>The bucket depends only on j − i, so each of the qLen + kLen − 1 offsets is bucketed once and row i
    /// is a contiguous slice of that per-offset list (no logarithm per pair).</remarks>
    public static Tensor Buckets(int qLen, int kLen, bool bidirectional, int numBuckets = 32, int maxDistance = 128,
        int queryOffset = 0, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(qLen);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kLen);
        var count = checked(qLen * kLen);
        // offset j − (i + queryOffset) of row i, column j sits at index j + (qLen − 1 − i) of perOffset
        var lowest = -(qLen - 1 + queryOffset);
        var perOffset = ArrayPool<int>.Shared.Rent(qLen + kLen - 1);
        var ids = ArrayPool<int>.Shared.Rent(count);
        try
        {
            for (var r = 0; r < qLen + kLen - 1; r++)
                perOffset[r] = Bucket(lowest + r, bidirectional, numBuckets, maxDistance);
            for (var i = 0; i < qLen; i++)
                perOffset.AsSpan(qLen - 1 - i, kLen).CopyTo(ids.AsSpan(i * kLen, kLen));
            return Tensor.FromArray<int>(ids.AsSpan(0, count), new Shape(qLen, kLen), device);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(ids);
            ArrayPool<int>.Shared.Return(perOffset);
        }
    }

    /// <summary>
    /// bias[h, i, j] = table[bucket(j − i), h] for a (numBuckets, heads) table (Hugging Face
    /// <c>relative_attention_bias.weight</c>): returns (heads, qLen, kLen); differentiable in the table.
    /// </summary>
    public static Tensor Bias(Tensor table, int qLen, int kLen, bool bidirectional, int maxDistance = 128,
        int queryOffset = 0)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (table.Rank != 2)
            throw new InvalidShapeException("position_bias", table.Shape, "the table must be (buckets, heads)");
        using var buckets = Buckets(qLen, kLen, bidirectional, table.Shape[0], maxDistance, queryOffset, table.Device);
        using var flat = buckets.Reshape(-1);
        using var transposed = table.Transpose(0, 1);
        using var byHead = transposed.Contiguous();                     // (heads, buckets), a tiny copy
        using var rows = byHead.IndexSelect(1, flat);                   // (heads, q·k): one gather per head
        return rows.Reshape(table.Shape[1], qLen, kLen);                // (heads, q, k)
    }
}
