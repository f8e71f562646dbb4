// T5 relative position buckets (exact for short distances, logarithmic up to max_distance) and the per-head bias
// tensor built from a learned (buckets × heads) table.
using System;
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
    public static Tensor Buckets(int qLen, int kLen, bool bidirectional, int numBuckets = 32, int maxDistance = 128,
        int queryOffset = 0, Device? device = null)
    {
        var ids = new int[qLen * kLen];
        for (var i = 0; i < qLen; i++)
        {
            for (var j = 0; j < kLen; j++)
                ids[i * kLen + j] = Bucket(j - (i + queryOffset), bidirectional, numBuckets, maxDistance);
        }
        return Tensor.FromArray<int>(ids, new Shape(qLen, kLen), device);
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
        using var rows = table.IndexSelect(0, flat);                    // (q·k, heads)
        using var grid = rows.Reshape(qLen, kLen, table.Shape[1]);      // (q, k, heads)
        return grid.Permute(2, 0, 1);                                   // (heads, q, k)
    }
}
