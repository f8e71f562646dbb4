// A T5 relative-position bias table (buckets × heads), owned by a stack's first layer and shared by all layers,
// expanded into bias tensors for full, causal, blocked-local, side (global) and routed attention.
using System;
using System.Buffers;
using System.Linq;
using CoLT5.Nn;
using CoLT5.Nn.Functional;
using CoLT5.Nn.Modules;
using CoLT5.Tensors;

namespace CoLT5.Model.Layers;

/// <summary>The learned table at <c>prefix.weight</c> (buckets, heads), initialised N(0, d^-1/2) as T5.</summary>
public sealed class RelativeBias(ParameterBuilder p, int buckets, int heads, int maxDistance, double initStd) : Module
{
    /// <summary>(buckets, heads).</summary>
    public Tensor Table { get; } = p.Get("weight", new Shape(buckets, heads), Init.Normal(initStd));

    /// <summary>Distance at which buckets saturate.</summary>
    public int MaxDistance { get; } = maxDistance;

    /// <summary>(1, H, q, k) for queries at positions offset + [0, q) and keys at [0, k).</summary>
    public Tensor Full(int qLen, int kLen, bool bidirectional, int queryOffset = 0)
    {
        using var bias = RelativePosition.Bias(Table, qLen, kLen, bidirectional, MaxDistance, queryOffset);
        return bias.Unsqueeze(0);
    }

    /// <summary>
    /// (1, 1, H, bl, 3·bl) for blocked local attention: query i of a block against key j of the 3-block window
    /// (previous, own, next block), at relative position j − bl − i.
    /// </summary>
    public Tensor Blocked(int blockLen)
    {
        var ids = new int[blockLen * 3 * blockLen];
        for (var i = 0; i < blockLen; i++)
        {
            for (var j = 0; j < 3 * blockLen; j++)
                ids[i * 3 * blockLen + j] = Bucket(j - blockLen - i, bidirectional: true);
        }
        using var bias = Lookup(ids, [blockLen, 3 * blockLen]);   // (H, bl, 3bl)
        using var one = bias.Unsqueeze(0);
        return one.Unsqueeze(0);
    }

    /// <summary>(B, H, q, k) from explicit relative positions rel[b, i, j] = key position − query position.</summary>
    public Tensor FromOffsets(int[] relative, int batch, int q, int k, bool bidirectional)
    {
        ArgumentNullException.ThrowIfNull(relative);
        // bucket each distinct offset once (offsets span a small range: ±n/g for global tokens, ±n in general);
        // no offsets at all (fewer tokens than one global block) gives an empty bias
        int low = relative.Length == 0 ? 0 : relative.Min(), high = relative.Length == 0 ? -1 : relative.Max();
        var perOffset = new int[checked(high - low + 1)];
        for (var r = 0; r < perOffset.Length; r++)
            perOffset[r] = Bucket(low + r, bidirectional);
        var ids = ArrayPool<int>.Shared.Rent(relative.Length);
        try
        {
            for (var i = 0; i < relative.Length; i++)
                ids[i] = perOffset[relative[i] - low];
            using var bias = Lookup(ids.AsSpan(0, relative.Length), [batch, q, k]);    // (H, B, q, k)
            return bias.Transpose(0, 1);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(ids);
        }
    }

    /// <summary>
    /// The bucket of every offset in [−max_distance, max_distance] and the first offset: buckets saturate beyond
    /// max_distance, so clamping an offset into this range gives its bucket (what the fused attention reads).
    /// </summary>
    public (int[] Map, int Low) BucketMap(bool bidirectional)
    {
        var map = new int[2 * MaxDistance + 1];
        for (var t = 0; t < map.Length; t++)
            map[t] = Bucket(t - MaxDistance, bidirectional);
        return (map, -MaxDistance);
    }

    private int Bucket(int relative, bool bidirectional) =>
        RelativePosition.Bucket(relative, bidirectional, Table.Shape[0], MaxDistance);

    // The table at the bucket ids, heads first: (H, shape...), one contiguous gather per head.
    private Tensor Lookup(ReadOnlySpan<int> ids, int[] shape)
    {
        using var index = Tensor.FromArray<int>(ids, new Shape(ids.Length), Table.Device);
        using var transposed = Table.Transpose(0, 1);
        using var byHead = transposed.Contiguous();                 // (H, buckets)
        using var rows = byHead.IndexSelect(1, index);              // (H, N)
        return rows.Reshape([Table.Shape[1], .. shape]);
    }
}
