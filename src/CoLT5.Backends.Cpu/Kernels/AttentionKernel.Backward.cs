// The fused attention backward: per kv head (so dK, dV and each head's bias gradient have one writer), for every batch
// row and query tile it recomputes the score tiles, P = exp(s − lse), and accumulates dV += Pᵀ·dO,
// dS = P ∘ (dO·vᵀ − rowsum(dO ∘ O)), dQ += dS·k, dK += dSᵀ·q and the bias gradient per offset.
using System;
using System.Numerics;
using System.Numerics.Tensors;
using CoLT5.Backends.Cpu.Memory;
using CoLT5.Backends.Cpu.Threading;

namespace CoLT5.Backends.Cpu.Kernels;

/// <summary>Where the backward writes one key set's gradients: dK, dV (B, H, Tk, D) and dTable (H, NB), contiguous.</summary>
internal unsafe struct AttentionKeyGrads<T> where T : unmanaged
{
    public T* DK, DV, DTable;
}

internal static unsafe partial class AttentionKernel
{
    /// <summary>
    /// Writes dQ (B, H, Tq, D contiguous) and each set's gradients from dO (strides dB, dH, dT), the forward's
    /// output (strides oB, oH, oT) and lse.
    /// </summary>
    public static void Backward<T>(AttentionSizes z, T* q, long qB, long qH, long qT, AttentionKeySet<T> main,
        AttentionKeySet<T> side, T* output, long oB, long oH, long oT, T* lse, T* dOut, long dB, long dH, long dT,
        T* dQ, AttentionKeyGrads<T> mainGrads, AttentionKeyGrads<T> sideGrads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var arena = new KernelArena();
        Prepare(ref main, z, arena, backward: true);
        Prepare(ref side, z, arena, backward: true);
        // q and dO rows feed the dK and dV products as streamed rows: dense copies (see Prepare)
        q = Dense(q, qB, qH, qT, z.Tq, z.H, z, arena);
        dOut = Dense(dOut, dB, dH, dT, z.Tq, z.H, z, arena);
        (qB, qH, qT) = ((long)z.H * z.Tq * z.D, (long)z.Tq * z.D, z.D);
        (dB, dH, dT) = (qB, qH, qT);
        var cost = (long)z.B * z.Tq * (main.Tk + side.Tk) * z.D * 8;
        // per kv head: its query heads' dK and dV contributions and each head's bias gradient have one writer
        var perGroup = z.H / main.Groups;
        CpuParallel.For(main.Groups, cost, (lo, hi) =>
        {
            var p = new T[QueryTile * KeyTile];
            var ds = new T[QueryTile * KeyTile];
            var rowDots = new T[z.Tq];
            var maxima = new T[QueryTile];
            var mainBias = new T[main.Table is null ? 0 : main.MapLen];
            var sideBias = new T[side.Table is null ? 0 : side.MapLen];
            fixed (T* pp = p, dsp = ds, mb = mainBias, sb = sideBias, mx = maxima)
            {
                for (var g = (int)lo; g < hi; g++)
                {
                    for (var b = 0; b < z.B; b++)
                    {
                        ClearKeyGrads(z, side, sideGrads, b, g);
                        ClearKeyGrads(z, main, mainGrads, b, g);
                    }
                    for (var h = g * perGroup; h < (g + 1) * perGroup; h++)
                    {
                        Array.Clear(mainBias);
                        Array.Clear(sideBias);
                        for (var b = 0; b < z.B; b++)
                        {
                            T* qRows = q + b * qB + h * qH, dRows = dOut + b * dB + h * dH;
                            T* dq = dQ + ((long)b * z.H + h) * z.Tq * z.D;
                            T* lseRow = lse + ((long)b * z.H + h) * z.Tq;
                            new Span<T>(dq, z.Tq * z.D).Clear();
                            for (var i = 0; i < z.Tq; i++)
                            {
                                rowDots[i] = TensorPrimitives.Dot(new ReadOnlySpan<T>(dRows + i * dT, z.D),
                                    new ReadOnlySpan<T>(output + b * oB + h * oH + i * oT, z.D));
                            }
                            for (var i0 = 0; i0 < z.Tq; i0 += QueryTile)
                            {
                                var bq = Math.Min(QueryTile, z.Tq - i0);
                                var tile = new QueryTileRef<T>(qRows + i0 * qT, qT, dRows + i0 * dT, dT,
                                    dq + i0 * z.D, lseRow + i0, rowDots, i0, bq);
                                BackwardSet(z, main, mainGrads, mb, b, h, tile, pp, dsp, mx);
                                BackwardSet(z, side, sideGrads, sb, b, h, tile, pp, dsp, mx);
                            }
                        }
                        FoldBias(main, mainGrads, mb, h);
                        FoldBias(side, sideGrads, sb, h);
                    }
                }
            }
        });
    }

    /// <summary>One query tile in the backward: its q, dO and dQ rows, lse and rowsum(dO ∘ O).</summary>
    private readonly struct QueryTileRef<T>(T* q, long qT, T* dOut, long dT, T* dQ, T* lse, T[] rowDots, int i0,
        int bq) where T : unmanaged
    {
        public readonly T* Q = q, DOut = dOut, DQ = dQ, Lse = lse;
        public readonly long QT = qT, DT = dT;
        public readonly T[] RowDots = rowDots;
        public readonly int I0 = i0, Rows = bq;
    }

    private static void BackwardSet<T>(AttentionSizes z, in AttentionKeySet<T> set, in AttentionKeyGrads<T> grads,
        T* dBias, int b, int h, in QueryTileRef<T> tile, T* p, T* ds, T* maxima) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (set.Tk == 0)
            return;
        var (lo, hi) = set.KeyRange(b, z.Tq, tile.I0, tile.I0 + tile.Rows);
        var kvh = set.KvHead(h, z.H);
        long head = ((long)b * set.Groups + kvh) * set.Tk;
        T* kRows = set.K + b * set.KB + kvh * set.KH;

        T* dk = grads.DK + head * z.D, dv = grads.DV + head * z.D;
        var bq = tile.Rows;
        for (var j0 = lo; j0 < hi; j0 += KeyTile)
        {
            var bk = Math.Min(KeyTile, hi - j0);
            Score(z, set, b, h, tile.I0, bq, tile.Q, tile.QT, j0, bk, p, maxima);
            for (var r = 0; r < bq; r++)
            {
                if (T.IsNegativeInfinity(tile.Lse[r]) || T.IsNegativeInfinity(maxima[r]))
                    new Span<T>(p + r * KeyTile, bk).Clear();
                else
                    AttentionRows.ExpShifted(p + r * KeyTile, bk, tile.Lse[r]);     // P
            }
            // dV += Pᵀ·dO; dP = dO·vᵀ; dS = P ∘ (dP − rowsum(dO ∘ O))
            TileGemm.MulAdd(bk, z.D, bq, p, 1, KeyTile, tile.DOut, tile.DT, dv + j0 * z.D, z.D, accumulate: true);
            T* valuesT = set.TileOf(set.ValuesT, b, kvh, z.D, j0);                     // (D, KeyTile)
            TileGemm.MulAdd(bq, PaddedColumns(bk), z.D, tile.DOut, tile.DT, 1, valuesT, KeyTile, ds, KeyTile,
                accumulate: false);
            for (var r = 0; r < bq; r++)
            {
                var row = new Span<T>(ds + r * KeyTile, bk);
                TensorPrimitives.Subtract(row, tile.RowDots[tile.I0 + r], row);
                TensorPrimitives.Multiply(row, new ReadOnlySpan<T>(p + r * KeyTile, bk), row);
            }
            // dQ += dS·k; dK += dSᵀ·q
            TileGemm.MulAdd(bq, z.D, bk, ds, KeyTile, 1, kRows + j0 * set.KT, set.KT, tile.DQ, z.D, accumulate: true);
            TileGemm.MulAdd(bk, z.D, bq, ds, 1, KeyTile, tile.Q, tile.QT, dk + j0 * z.D, z.D, accumulate: true);
            if (set.Table is not null)
                AccumulateBias(z, set, dBias, b, tile.I0, bq, j0, bk, ds);
        }
    }

    // dBias[offset] += dS over the tile (the bias of a score is the table entry of its offset).
    private static void AccumulateBias<T>(AttentionSizes z, in AttentionKeySet<T> set, T* dBias, int b, int i0,
        int bq, int j0, int bk, T* ds) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (var r = 0; r < bq; r++)
        {
            var row = new ReadOnlySpan<T>(ds + r * KeyTile, bk);
            long qpos = set.QueryPosition(b, z.Tq, i0 + r);
            if (set.KeyPositions is null)
            {
                var start = j0 - qpos - set.MapLow;
                var (below, inside) = Split(bk, set.MapLen, start);
                if (below > 0)
                    dBias[0] += TensorPrimitives.Sum(row[..below]);
                if (inside > below)
                {
                    var slice = new Span<T>(dBias + start + below, inside - below);
                    TensorPrimitives.Add(slice, row[below..inside], slice);
                }
                if (inside < bk)
                    dBias[set.MapLen - 1] += TensorPrimitives.Sum(row[inside..]);
                continue;
            }
            int* kpos = set.KeyPositions + (long)b * set.Tk + j0;
            for (var c = 0; c < bk; c++)
                dBias[Math.Clamp(kpos[c] - qpos - set.MapLow, 0, set.MapLen - 1)] += row[c];
        }
    }

    // dTable[h, bucket] = Σ over the offsets in that bucket.
    private static void FoldBias<T>(in AttentionKeySet<T> set, in AttentionKeyGrads<T> grads, T* dBias, int h)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (set.Table is null)
            return;
        T* row = grads.DTable + (long)h * set.Buckets;
        new Span<T>(row, set.Buckets).Clear();                     // also when the set has no keys (G = 0)
        if (set.Tk == 0)
            return;
        for (var t = 0; t < set.MapLen; t++)
            row[set.Map[t]] += dBias[t];
    }

    private static void ClearKeyGrads<T>(AttentionSizes z, in AttentionKeySet<T> set, in AttentionKeyGrads<T> grads,
        int b, int g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (set.Tk == 0)
            return;
        long at = ((long)b * set.Groups + g) * set.Tk * z.D;
        new Span<T>(grads.DK + at, set.Tk * z.D).Clear();
        new Span<T>(grads.DV + at, set.Tk * z.D).Clear();
    }
}
