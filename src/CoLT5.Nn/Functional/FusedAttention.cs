// Attention over one or two key sets with bucketed T5 relative bias, key masks and an optional band, as one
// backend call per direction (flash-style on the CPU: no Tq × Tk matrix), with the composed tensor-op version as
// its reference and fallback. Full, local, transient-global and routed attention are all expressed this way.
using System;
using CoLT5.Tensors;
using CoLT5.Tensors.Autograd;
using CoLT5.Tensors.Backends;

namespace CoLT5.Nn.Functional;

/// <summary>The T5 relative bias of a key set in bucketed form.</summary>
/// <param name="Table">The learned table (buckets, H) (its gradient flows).</param>
/// <param name="BucketMap">(L) int32: the bucket of offset <paramref name="Low"/> + t; offsets beyond either end take
/// the end entry (T5 buckets saturate at max_distance, so a map over ±max_distance is exact).</param>
/// <param name="Low">The offset of the map's first entry.</param>
public sealed record BucketedBias(Tensor Table, Tensor BucketMap, int Low);

/// <summary>
/// Keys and values (B, G, Tk, D) a query may read (G kv heads dividing the H query heads; head h reads kv head
/// h / (H/G)), and which: key j of row b is readable by query i when
/// <see cref="KeyMask"/>[b, j] and |kpos − qpos| ≤ <see cref="Window"/>; its score gets
/// <see cref="Bias"/> at offset kpos − qpos.
/// </summary>
/// <param name="Keys">(B, G, Tk, D).</param>
/// <param name="Values">(B, G, Tk, D).</param>
public sealed record AttentionKeySet(Tensor Keys, Tensor Values)
{
    /// <summary>(B, Tk) bool, true = real; null: every key is real.</summary>
    public Tensor? KeyMask { get; init; }

    /// <summary>(B, Tk) int32 key positions; null: key j sits at j.</summary>
    public Tensor? KeyPositions { get; init; }

    /// <summary>(B, Tq) int32 query positions for this set; null: query i sits at i.</summary>
    public Tensor? QueryPositions { get; init; }

    /// <summary>Band half-width r; <see cref="int.MaxValue"/> for none.</summary>
    public int Window { get; init; } = int.MaxValue;

    /// <summary>The relative bias, or null for none.</summary>
    public BucketedBias? Bias { get; init; }
}

/// <summary>Fused attention in T5 conventions (no 1/√d scaling) over one or two key sets.</summary>
public static class FusedAttention
{
    /// <summary>
    /// softmax over the readable keys of <paramref name="main"/> and <paramref name="side"/> of q·k + bias, times v.
    /// q: (B, H, Tq, D). Returns (B, H, Tq, D) (a view of a (B, Tq, H, D) tensor, so merging heads is free). A query
    /// that may read no key gets 0. Runs the backend's fused kernel, else <see cref="Composed"/>.
    /// </summary>
    public static Tensor Forward(Tensor q, AttentionKeySet main, AttentionKeySet? side = null)
    {
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(main);
        return TryFused(q, main, side) ?? Composed(q, main, side);
    }

    /// <summary>The reference: the same attention from tensor ops with the full (B, H, Tq, Tk) score matrix.</summary>
    public static Tensor Composed(Tensor q, AttentionKeySet main, AttentionKeySet? side = null)
    {
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(main);
        using var mainScores = MaskedScores(q, main);                              // (B, H, Tq, Tk)
        using var sideScores = side is null ? null : MaskedScores(q, side);
        using var both = sideScores is null ? null : Tensor.Cat([mainScores, sideScores], 3);
        using var mainValues = Attention.RepeatHeads(main.Values, q.Shape[1] / main.Values.Shape[1]);
        using var sideValues = side is null ? null : Attention.RepeatHeads(side.Values, q.Shape[1] / side.Values.Shape[1]);
        using var bothValues = sideValues is null ? null : Tensor.Cat([mainValues, sideValues], 2);
        var scores = both ?? mainScores;
        var values = bothValues ?? mainValues;
        using var weights = scores.Softmax();                                       // NaN on rows with no key
        using var none = RowsWithNoKey(scores);                                    // (B, H, Tq, 1)
        using var clean = weights.MaskedFill(none, 0);
        return clean.MatMul(values);
    }

    // The rows whose scores are all −∞: a mask, computed outside the graph (a recorded max would keep its index
    // tensor alive in a node that backward never visits).
    private static Tensor RowsWithNoKey(Tensor scores)
    {
        using var noGrad = Tensor.NoGrad();
        using var best = scores.Max(3, keepDim: true);
        return best.Eq(double.NegativeInfinity);
    }

    // q·kᵀ + bias, −∞ where the key may not be read: (B, H, Tq, Tk).
    private static Tensor MaskedScores(Tensor q, AttentionKeySet set)
    {
        int batch = q.Shape[0], tq = q.Shape[2], tk = set.Keys.Shape[2];
        var keyPos = set.KeyPositions?.ToArray<int>();
        var queryPos = set.QueryPositions?.ToArray<int>();
        var mask = set.KeyMask?.ToArray<bool>();
        var map = set.Bias?.BucketMap.ToArray<int>();
        var blocked = new bool[batch * tq * tk];
        var buckets = map is null ? null : new int[batch * tq * tk];
        for (var b = 0; b < batch; b++)
        {
            for (var i = 0; i < tq; i++)
            {
                long qpos = queryPos is null ? i : queryPos[b * tq + i];
                for (var j = 0; j < tk; j++)
                {
                    var at = (b * tq + i) * tk + j;
                    var offset = (keyPos is null ? j : keyPos[b * tk + j]) - qpos;
                    blocked[at] = (mask is not null && !mask[b * tk + j]) || Math.Abs(offset) > set.Window;
                    if (buckets is not null)
                        buckets[at] = map![Math.Clamp(offset - set.Bias!.Low, 0, map.Length - 1)];
                }
            }
        }
        using var keys = Attention.RepeatHeads(set.Keys, q.Shape[1] / set.Keys.Shape[1]);  // (B, H, Tk, D)
        using var scores = Tensor.MatMul(q, keys, transposeB: true);
        using var block = Tensor.FromArray<bool>(blocked, new Shape(batch, 1, tq, tk), q.Device);
        if (buckets is null)
            return scores.MaskedFill(block, double.NegativeInfinity);
        using var biased = AddBias(scores, set.Bias!.Table, buckets, batch, tq, tk);
        return biased.MaskedFill(block, double.NegativeInfinity);
    }

    private static Tensor AddBias(Tensor scores, Tensor table, int[] buckets, int batch, int tq, int tk)
    {
        using var index = Tensor.FromArray<int>(buckets, new Shape(buckets.Length), table.Device);
        using var byHead = table.Transpose(0, 1);                                   // (H, buckets)
        using var rows = byHead.IndexSelect(1, index);                             // (H, B·Tq·Tk)
        using var shaped = rows.Reshape(table.Shape[1], batch, tq, tk);
        using var bias = shaped.Transpose(0, 1);
        return scores + bias;
    }

    /// <summary>The fused forward, or null when the backend has no kernel (nothing is recorded then).</summary>
    private static Tensor? TryFused(Tensor q, AttentionKeySet main, AttentionKeySet? side)
    {
        if (q.Rank != 4)
            throw new InvalidShapeException("attention", q.Shape, "queries must be (B, H, Tq, D)");
        int batch = q.Shape[0], heads = q.Shape[1], tq = q.Shape[2], d = q.Shape[3];
        using var qs = UnitLast(q);
        using var m = new SetOperands(main);
        using var s = side is null ? null : new SetOperands(side);
        var raw = Tensor.Empty(q.Backend, new Shape(batch, tq, heads, d), q.DType);   // (B, Tq, H, D)
        var lse = Tensor.Empty(q.Backend, new Shape(batch, heads, tq), q.DType);
        bool done;
        try
        {
            done = q.Backend.TryAttention(qs.View, m.Keys, s?.Keys ?? default, HeadsFirst(raw), lse.View);
        }
        catch
        {
            raw.Dispose();
            lse.Dispose();
            throw;
        }
        if (!done)
        {
            raw.Dispose();
            lse.Dispose();
            return null;
        }
        using (raw)
        using (lse)
        {
            if (Tensor.Recording([qs, .. m.Learnable, .. s?.Learnable ?? []]))
                raw.Attach(new FusedBackward(qs, m, s, raw, lse));
            return raw.Permute(0, 2, 1, 3);
        }
    }

    // (B, Tq, H, D) storage seen as (B, H, Tq, D).
    private static TensorView HeadsFirst(Tensor raw)
    {
        var v = raw.View;
        return new TensorView(v.Buffer, new Shape(raw.Shape[0], raw.Shape[2], raw.Shape[1], raw.Shape[3]),
            [v.Strides[0], v.Strides[2], v.Strides[1], v.Strides[3]], v.Offset);
    }

    // x itself (a recorded alias: To on its own device) when its last dimension has unit stride, else a dense copy.
    private static Tensor UnitLast(Tensor x) => x.Shape[^1] <= 1 || x.Strides[^1] == 1 ? x.To(x.Device) : x.Contiguous();

    /// <summary>One key set as the kernel takes it: unit-stride keys and values, the table heads-first (recorded, so
    /// its gradient reaches the (buckets, H) parameter), dense masks, positions and map.</summary>
    private sealed class SetOperands : IDisposable
    {
        public SetOperands(AttentionKeySet set)
        {
            var device = set.Keys.Device;
            Window = set.Window;
            Low = set.Bias?.Low ?? 0;
            K = UnitLast(set.Keys);
            V = UnitLast(set.Values);
            if (set.Bias is not null)
            {
                using var transposed = set.Bias.Table.Transpose(0, 1);
                Table = transposed.Contiguous();                                          // (H, buckets)
                Map = Dense(set.Bias.BucketMap, device);
            }
            Mask = Dense(set.KeyMask, device);
            KeyPositions = Dense(set.KeyPositions, device);
            QueryPositions = Dense(set.QueryPositions, device);
        }

        private SetOperands(SetOperands from, Func<Tensor, Tensor> keep)
        {
            Window = from.Window;
            Low = from.Low;
            K = keep(from.K);
            V = keep(from.V);
            Table = from.Table is null ? null : keep(from.Table);
            Map = from.Map is null ? null : keep(from.Map);
            Mask = from.Mask is null ? null : keep(from.Mask);
            KeyPositions = from.KeyPositions is null ? null : keep(from.KeyPositions);
            QueryPositions = from.QueryPositions is null ? null : keep(from.QueryPositions);
        }

        public Tensor K { get; }
        public Tensor V { get; }
        public Tensor? Table { get; }
        public Tensor? Map { get; }
        public Tensor? Mask { get; }
        public Tensor? KeyPositions { get; }
        public Tensor? QueryPositions { get; }
        public int Window { get; }
        public int Low { get; }

        /// <summary>The tensors that can receive gradients: K, V and the table.</summary>
        public Tensor[] Learnable => Table is null ? [K, V] : [K, V, Table];

        public AttentionKeys Keys => new(K.View, V.View, Mask?.View ?? default, KeyPositions?.View ?? default,
            QueryPositions?.View ?? default, Window, Table?.View ?? default, Map?.View ?? default, Low);

        /// <summary>The same operands saved into a backward node (private aliases).</summary>
        public SetOperands SavedBy(Func<Tensor, Tensor> save) => new(this, save);

        private static Tensor? Dense(Tensor? t, Device device)
        {
            if (t is null)
                return null;
            using var here = t.To(device);
            return here.IsContiguous ? here.Alias() : here.Contiguous();
        }

        public void Dispose()
        {
            foreach (var t in new[] { K, V, Table, Map, Mask, KeyPositions, QueryPositions })
                t?.Dispose();
        }
    }

    private sealed class FusedBackward : GradFn
    {
        private readonly Tensor q, output, lse;
        private readonly SetOperands main;
        private readonly SetOperands? side;

        // inputs: q, main K, V, table, side K, V, table
        public FusedBackward(Tensor q, SetOperands main, SetOperands? side, Tensor output, Tensor lse)
            : base(q, main.K, main.V, main.Table, side?.K, side?.V, side?.Table)
        {
            this.q = Save(q);
            this.main = main.SavedBy(Save);
            this.side = side?.SavedBy(Save);
            this.output = Save(output);
            this.lse = Save(lse);
        }

        public override string Name => "attention_backward";

        public override Tensor?[] Backward(Tensor grad)
        {
            var backend = q.Backend;
            using var dy = grad.IsContiguous && grad.DType == q.DType ? grad.Alias() : grad.To(q.DType).Contiguous();
            var dq = Tensor.Empty(backend, q.Shape, q.DType);
            var (dk, dv, dBias) = SetGrads(main);
            var (sk, sv, sBias) = side is null ? (null, null, null) : SetGrads(side);
            Tensor?[] result = [dq, dk, dv, dBias, sk, sv, sBias];
            bool done;
            try
            {
                var grads = new AttentionGradients(dq.View, dk.View, dv.View, dBias?.View ?? default,
                    sk?.View ?? default, sv?.View ?? default, sBias?.View ?? default);
                done = backend.TryAttentionBackward(q.View, main.Keys, side?.Keys ?? default, HeadsFirst(output),
                    lse.View, HeadsFirst(dy), grads);
            }
            catch
            {
                Dispose(result);
                throw;
            }
            if (!done)
            {
                Dispose(result);
                throw new NotSupportedException($"the {q.Device} backend ran the fused attention forward but has " +
                    "no backward for it");
            }
            for (var i = 0; i < result.Length; i++)
            {
                if (!NeedsGrad(i))
                {
                    result[i]?.Dispose();
                    result[i] = null;
                }
            }
            return result;
        }

        private (Tensor K, Tensor V, Tensor? Bias) SetGrads(SetOperands set) =>
            (Tensor.Empty(q.Backend, set.K.Shape, q.DType), Tensor.Empty(q.Backend, set.K.Shape, q.DType),
                set.Table is null ? null : Tensor.Empty(q.Backend, set.Table.Shape, q.DType));

        private static void Dispose(Tensor?[] tensors)
        {
            foreach (var t in tensors)
                t?.Dispose();
        }
    }
}
