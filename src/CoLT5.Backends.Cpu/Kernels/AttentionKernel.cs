// Flash-style attention on the CPU: per (batch row, head, tile of 64 queries), score tiles of 64 keys are built
// from the transposed keys (TileGemm), biased from the per-offset table, masked, and folded into a running softmax
// (max, sum, unnormalised output) — no Tq × Tk matrix exists. Banded sets visit only the key tiles their band
// touches. The backward (AttentionKernel.Backward.cs) recomputes the same tiles. Oracle: FusedAttention.Composed.
using System;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using CoLT5.Backends.Cpu.Memory;
using CoLT5.Backends.Cpu.Threading;

namespace CoLT5.Backends.Cpu.Kernels;

/// <summary>Problem sizes shared by both key sets: batch B, heads H, queries Tq, head dim D.</summary>
internal readonly record struct AttentionSizes(int B, int H, int Tq, int D);

/// <summary>The fused attention forward and backward over raw pointers.</summary>
internal static unsafe partial class AttentionKernel
{
    /// <summary>Queries per tile.</summary>
    public const int QueryTile = 64;

    /// <summary>Keys per tile.</summary>
    public const int KeyTile = 64;

    /// <summary>
    /// out (B, H, Tq, D) with strides (oB, oH, oT) and lse (B, H, Tq) contiguous, from q (strides qB, qH, qT) and
    /// the key sets (side.Tk = 0 when absent).
    /// </summary>
    public static void Forward<T>(AttentionSizes z, T* q, long qB, long qH, long qT, AttentionKeySet<T> main,
        AttentionKeySet<T> side, T* output, long oB, long oH, long oT, T* lse)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (z.Tq <= RowQueries)
        {
            ForwardRows(z, q, qB, qH, qT, main, side, output, oB, oH, oT, lse);
            return;
        }
        using var arena = new KernelArena();
        Prepare(ref main, z, arena, backward: false);
        Prepare(ref side, z, arena, backward: false);
        var tiles = (z.Tq + QueryTile - 1) / QueryTile;
        var cost = (long)QueryTile * (main.Tk + side.Tk) * z.D * 4;
        CpuParallel.For((long)z.B * z.H * tiles, cost, (lo, hi) =>
        {
            var s = new T[QueryTile * KeyTile];
            var acc = new T[QueryTile * z.D];
            var m = new T[QueryTile];
            var l = new T[QueryTile];
            var maxima = new T[QueryTile];
            fixed (T* sp = s, ap = acc, mx = maxima)
            {
                for (var item = lo; item < hi; item++)
                {
                    var b = (int)(item / ((long)z.H * tiles));
                    var h = (int)(item / tiles % z.H);
                    var i0 = (int)(item % tiles) * QueryTile;
                    var bq = Math.Min(QueryTile, z.Tq - i0);
                    T* qRows = q + b * qB + h * qH + i0 * qT;
                    m.AsSpan().Fill(T.NegativeInfinity);
                    l.AsSpan().Clear();
                    new Span<T>(ap, bq * z.D).Clear();
                    Accumulate(z, main, b, h, i0, bq, qRows, qT, sp, mx, ap, m, l);
                    Accumulate(z, side, b, h, i0, bq, qRows, qT, sp, mx, ap, m, l);
                    Finish(z, bq, ap, m, l, output + b * oB + h * oH + i0 * oT, oT,
                        lse + ((long)b * z.H + h) * z.Tq + i0);
                }
            }
        });
    }

    // Folds every key tile of one set into the running softmax of a query tile.
    private static void Accumulate<T>(AttentionSizes z, in AttentionKeySet<T> set, int b, int h, int i0, int bq,
        T* qRows, long qT, T* s, T* maxima, T* acc, T[] m, T[] l) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (set.Tk == 0)
            return;
        var (lo, hi) = set.KeyRange(b, z.Tq, i0, i0 + bq);
        T* vRows = set.V + b * set.VB + set.KvHead(h, z.H) * set.VH;
        for (var j0 = lo; j0 < hi; j0 += KeyTile)
        {
            var bk = Math.Min(KeyTile, hi - j0);
            Score(z, set, b, h, i0, bq, qRows, qT, j0, bk, s, maxima);
            for (var r = 0; r < bq; r++)
            {
                T* row = s + r * KeyTile;
                var tileMax = maxima[r];
                if (T.IsNegativeInfinity(tileMax))
                {
                    new Span<T>(row, bk).Clear();                  // nothing this query may read in this tile
                    continue;
                }
                var next = T.Max(m[r], tileMax);
                if (next != m[r])
                {
                    var scale = T.Exp(m[r] - next);            // 0 on the first tile with a readable key
                    l[r] *= scale;
                    var accRow = new Span<T>(acc + r * z.D, z.D);
                    TensorPrimitives.Multiply(accRow, scale, accRow);
                    m[r] = next;
                }
                l[r] += AttentionRows.ExpShifted(row, bk, next);
            }
            TileGemm.MulAdd(bq, z.D, bk, s, KeyTile, 1, vRows + j0 * set.VT, set.VT, acc, z.D, accumulate: true);
        }
    }

    // out = acc / l and lse = m + log l; a row that read no key gets out = 0 and lse = −∞.
    private static void Finish<T>(AttentionSizes z, int bq, T* acc, T[] m, T[] l, T* output, long oT, T* lse)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (var r = 0; r < bq; r++)
        {
            var dst = new Span<T>(output + r * oT, z.D);
            if (l[r] == T.Zero)
            {
                dst.Clear();
                lse[r] = T.NegativeInfinity;
                continue;
            }
            TensorPrimitives.Multiply(new ReadOnlySpan<T>(acc + r * z.D, z.D), T.One / l[r], dst);
            lse[r] = m[r] + T.Log(l[r]);
        }
    }

    /// <summary>
    /// s (bq × bk, row stride <see cref="KeyTile"/>) = q·kᵀ over keys [j0, j0 + bk) plus the relative bias and the
    /// key mask, −∞ outside the band; <paramref name="rowMax"/>[r] = the maximum of row r (−∞ when it reads nothing).
    /// </summary>
    private static void Score<T>(AttentionSizes z, in AttentionKeySet<T> set, int b, int h, int i0, int bq,
        T* qRows, long qT, int j0, int bk, T* s, T* rowMax) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* keysT = set.TileOf(set.KeysT, b, set.KvHead(h, z.H), z.D, j0);            // (D, KeyTile)
        TileGemm.MulAdd(bq, PaddedColumns(bk), z.D, qRows, qT, 1, keysT, KeyTile, s, KeyTile, accumulate: false);
        T* bias = set.Table is null ? null : set.BiasByOffset + (long)h * set.MapLen;
        T* mask = set.MaskAdd is null ? null : set.MaskAdd + (long)b * set.Tk + j0;
        for (var r = 0; r < bq; r++)
        {
            T* row = s + r * KeyTile;
            long qpos = set.QueryPosition(b, z.Tq, i0 + r);
            rowMax[r] = set.KeyPositions is null
                ? ScoreRun(set, row, bk, j0, qpos, bias, mask)
                : ScoreGathered(set, row, bk, set.KeyPositions + (long)b * set.Tk + j0, qpos, bias, mask);
        }
    }

    /// <summary>
    /// Columns a score-tile product computes for a tile of <paramref name="bk"/> keys: rounded up to 16 so a short
    /// last tile stays on the vector path (the transposed tiles are zero past the last key; the extra columns are
    /// never read).
    /// </summary>
    internal static int PaddedColumns(int bk) => Math.Min(KeyTile, (bk + 15) & ~15);

    // Keys at j: the band is a column range and the offsets j0 − qpos, j0 − qpos + 1, ... run through the bias
    // per offset, so a row is one fused pass (constant bias beyond the map's ends, a slice inside it).
    private static T ScoreRun<T>(in AttentionKeySet<T> set, T* row, int bk, int j0, long qpos, T* bias, T* mask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int from = 0, to = bk;
        if (set.Banded)
        {
            from = (int)Math.Clamp(qpos - set.Window - j0, 0, bk);
            to = (int)Math.Clamp(qpos + set.Window + 1 - j0, from, bk);
            new Span<T>(row, from).Fill(T.NegativeInfinity);
            new Span<T>(row + to, bk - to).Fill(T.NegativeInfinity);
        }
        if (to == from)
            return T.NegativeInfinity;
        var count = to - from;
        T* run = null;
        var constant = T.Zero;
        if (bias is not null)
        {
            var start = j0 + from - qpos - set.MapLow;
            if (start >= set.MapLen)
                constant = bias[set.MapLen - 1];                                  // every offset beyond the map
            else if (start + count <= 0)
                constant = bias[0];                                               // every offset before it
            else if (start >= 0 && start + count <= set.MapLen)
                run = bias + start;
            else
                AddBiasRun(new Span<T>(row + from, count), bias, set.MapLen, start);
        }
        return AttentionRows.AddAndMax(row + from, count, run, mask is null ? null : mask + from, constant);
    }

    // Keys at explicit positions (routed tokens): offsets and band per element.
    private static T ScoreGathered<T>(in AttentionKeySet<T> set, T* row, int bk, int* kpos, long qpos, T* bias,
        T* mask) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var max = T.NegativeInfinity;
        for (var c = 0; c < bk; c++)
        {
            var offset = kpos[c] - qpos;
            var v = row[c];
            if (bias is not null)
                v += bias[Math.Clamp(offset - set.MapLow, 0, set.MapLen - 1)];
            if (mask is not null)
                v += mask[c];
            if (set.Banded && Math.Abs(offset) > set.Window)
                v = T.NegativeInfinity;
            row[c] = v;
            max = T.Max(max, v);
        }
        return max;
    }

    // row[c] += bias[clamp(start + c, 0, len − 1)]: constant below the map, a slice inside it, constant above.
    private static void AddBiasRun<T>(Span<T> row, T* bias, int len, long start)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (below, inside) = Split(row.Length, len, start);
        if (below > 0)
            TensorPrimitives.Add(row[..below], bias[0], row[..below]);
        if (inside > below)
        {
            var slice = row[below..inside];
            TensorPrimitives.Add(slice, new ReadOnlySpan<T>(bias + start + below, slice.Length), slice);
        }
        if (inside < row.Length)
            TensorPrimitives.Add(row[inside..], bias[len - 1], row[inside..]);
    }

    // Columns [0, below) map below the bucket map, [below, inside) into it, [inside, n) above it.
    private static (int Below, int Inside) Split(int n, int len, long start)
    {
        var below = (int)Math.Clamp(-start, 0, n);
        var inside = (int)Math.Clamp(len - start, below, n);
        return (below, inside);
    }

    /// <summary>
    /// Derives the per-call tables of a set: bias per offset and head, additive mask, Kᵀ (and Vᵀ) in contiguous key
    /// tiles, and dense copies of the rows the tile products stream (V for the forward, K for the backward), so no
    /// product walks rows H·D apart (which thrashes the L1 sets).
    /// </summary>
    private static void Prepare<T>(ref AttentionKeySet<T> set, AttentionSizes z, KernelArena arena, bool backward)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (set.Tk == 0)
            return;
        PrepareTables(ref set, z, arena);
        var g = set.Groups;
        set.KeysT = TransposeTiles(set.K, set.KB, set.KH, set.KT, set.Tk, g, z, arena);
        if (backward)
        {
            set.ValuesT = TransposeTiles(set.V, set.VB, set.VH, set.VT, set.Tk, g, z, arena);
            set.K = Dense(set.K, set.KB, set.KH, set.KT, set.Tk, g, z, arena);
            (set.KB, set.KH, set.KT) = ((long)g * set.Tk * z.D, (long)set.Tk * z.D, z.D);
        }
        else
        {
            set.V = Dense(set.V, set.VB, set.VH, set.VT, set.Tk, g, z, arena);
            (set.VB, set.VH, set.VT) = ((long)g * set.Tk * z.D, (long)set.Tk * z.D, z.D);
        }
    }

    /// <summary>The per-call tables every path needs: bias per offset and head, and the additive key mask.</summary>
    private static void PrepareTables<T>(ref AttentionKeySet<T> set, AttentionSizes z, KernelArena arena)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (set.Tk == 0)
            return;
        if (set.Table is not null)
        {
            set.BiasByOffset = arena.Rent<T>((long)z.H * set.MapLen);
            for (var h = 0; h < z.H; h++)
            {
                for (var t = 0; t < set.MapLen; t++)
                    set.BiasByOffset[(long)h * set.MapLen + t] = set.Table[(long)h * set.Buckets + set.Map[t]];
            }
        }
        if (set.Mask is not null)
        {
            set.MaskAdd = arena.Rent<T>((long)z.B * set.Tk);
            for (long i = 0; i < (long)z.B * set.Tk; i++)
                set.MaskAdd[i] = set.Mask[i] != 0 ? T.Zero : T.NegativeInfinity;
        }
    }

    // (B, G, Tk, D) strided → (B, G, tiles, D, KeyTile): each key tile transposed into one contiguous block.
    private static T* TransposeTiles<T>(T* x, long xB, long xH, long xT, int tk, int heads, AttentionSizes z,
        KernelArena arena) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tiles = (tk + KeyTile - 1) / KeyTile;
        var length = (long)z.B * heads * tiles * z.D * KeyTile;
        T* t = arena.Rent<T>(length);
        if (tk % KeyTile != 0)
            NativeMemory.Clear(t, (nuint)(length * sizeof(T)));                    // zeros past the last key
        CpuParallel.For((long)z.B * heads, (long)z.D * tk, (lo, hi) =>
        {
            for (var bh = lo; bh < hi; bh++)
            {
                T* src = x + bh / heads * xB + bh % heads * xH;
                for (var j = 0; j < tk; j++)
                {
                    T* row = src + j * xT;
                    T* dst = t + ((bh * tiles + j / KeyTile) * z.D * KeyTile) + j % KeyTile;
                    for (var d = 0; d < z.D; d++)
                        dst[(long)d * KeyTile] = row[d];
                }
            }
        });
        return t;
    }

    /// <summary>(B, heads, T, D) strided → contiguous.</summary>
    internal static T* Dense<T>(T* x, long xB, long xH, long xT, int t, int heads, AttentionSizes z, KernelArena arena)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* dense = arena.Rent<T>((long)z.B * heads * t * z.D);
        CpuParallel.For((long)z.B * heads, (long)z.D * t, (lo, hi) =>
        {
            for (var bh = lo; bh < hi; bh++)
            {
                T* src = x + bh / heads * xB + bh % heads * xH;
                for (var j = 0; j < t; j++)
                    new ReadOnlySpan<T>(src + j * xT, z.D).CopyTo(new Span<T>(dense + (bh * t + j) * z.D, z.D));
            }
        });
        return dense;
    }
}
