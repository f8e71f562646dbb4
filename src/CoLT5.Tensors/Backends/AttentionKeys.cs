// What a fused attention kernel reads besides the queries: one set of keys/values with its own positions, key mask,
// band and relative-bias table. Full, local, transient-global (two sets) and routed attention are all this shape.
namespace CoLT5.Tensors.Backends;

/// <summary>
/// One key set of <see cref="IBackend.TryAttention"/>. Query i of batch row b may read key j when the key is real
/// (<see cref="KeyMask"/>) and |kpos − qpos| ≤ <see cref="Window"/>; its score is q·k (no 1/√d, T5) plus
/// <c>BiasTable[h, BucketMap[clamp(kpos − qpos − BucketLow, 0, L − 1)]]</c>.
/// </summary>
/// <param name="K">Keys (B, G, Tk, D), G kv heads dividing H: unit stride on D, any other strides.</param>
/// <param name="V">Values (B, G, Tk, D): unit stride on D, any other strides.</param>
/// <param name="KeyMask">(B, Tk) bool, contiguous, true = a real key; or default (every key real).</param>
/// <param name="KeyPositions">(B, Tk) int32, contiguous; or default (key j sits at position j).</param>
/// <param name="QueryPositions">(B, Tq) int32, contiguous, the query positions this set measures offsets from;
/// or default (query i sits at position i).</param>
/// <param name="Window">Band half-width r (|kpos − qpos| ≤ r); <see cref="int.MaxValue"/> for none.</param>
/// <param name="BiasTable">(H, NB) contiguous in the queries' dtype; or default (no bias).</param>
/// <param name="BucketMap">(L) int32 contiguous: the bucket of offset BucketLow + t. Offsets beyond either end take
/// the end entry (T5 buckets saturate at max_distance, so a map over ±max_distance is exact).</param>
/// <param name="BucketLow">The offset of <paramref name="BucketMap"/>'s first entry.</param>
public readonly record struct AttentionKeys(TensorView K, TensorView V, TensorView KeyMask, TensorView KeyPositions,
    TensorView QueryPositions, int Window, TensorView BiasTable, TensorView BucketMap, int BucketLow)
{
    /// <summary>True when this set is present (a default value means "no second key set").</summary>
    public bool Present => K.Buffer is not null;
}

/// <summary>
/// The gradients <see cref="IBackend.TryAttentionBackward"/> writes, all contiguous and overwritten: dQ like the
/// queries, dK/dV like each set's keys and values, dBias like each set's table (absent when the set has none).
/// </summary>
public readonly record struct AttentionGradients(TensorView DQ, TensorView DK, TensorView DV, TensorView DBias,
    TensorView DSideK, TensorView DSideV, TensorView DSideBias);
