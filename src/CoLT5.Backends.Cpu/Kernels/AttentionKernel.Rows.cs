// The fused attention forward for a handful of queries (a decoding step): each query row scores its keys by
// direct dot products and sums the values it reads, so every key and value is read once — no transposed tiles,
// whose copies would cost more than the step itself.
using System;
using System.Numerics;
using System.Numerics.Tensors;
using CoLT5.Backends.Cpu.Memory;
using CoLT5.Backends.Cpu.Threading;

namespace CoLT5.Backends.Cpu.Kernels;

internal static unsafe partial class AttentionKernel
{
    /// <summary>Up to this many queries the forward runs row by row (<see cref="ForwardRows"/>).</summary>
    public const int RowQueries = 4;

    /// <summary>The forward of <see cref="Forward"/> for Tq ≤ <see cref="RowQueries"/>: one query row at a time.</summary>
    private static void ForwardRows<T>(AttentionSizes z, T* q, long qB, long qH, long qT, AttentionKeySet<T> main,
        AttentionKeySet<T> side, T* output, long oB, long oH, long oT, T* lse)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var arena = new KernelArena();
        PrepareTables(ref main, z, arena);
        PrepareTables(ref side, z, arena);
        CpuParallel.For((long)z.B * z.H * z.Tq, (long)(main.Tk + side.Tk) * z.D * 2, (lo, hi) =>
        {
            var scores = new T[main.Tk + side.Tk];
            var acc = new T[z.D];
            fixed (T* sp = scores)
            {
                for (var item = lo; item < hi; item++)
                {
                    var b = (int)(item / ((long)z.H * z.Tq));
                    var h = (int)(item / z.Tq % z.H);
                    var i = (int)(item % z.Tq);
                    var query = new ReadOnlySpan<T>(q + b * qB + h * qH + i * qT, z.D);
                    var mainRange = main.KeyRange(b, z.Tq, i, i + 1);
                    var sideRange = side.Tk == 0 ? default : side.KeyRange(b, z.Tq, i, i + 1);
                    T* sideScores = sp + (mainRange.Hi - mainRange.Lo);
                    var max = T.Max(RowScores(z, main, b, h, i, query, mainRange, sp),
                        RowScores(z, side, b, h, i, query, sideRange, sideScores));
                    var dst = new Span<T>(output + b * oB + h * oH + i * oT, z.D);
                    T* lseAt = lse + ((long)b * z.H + h) * z.Tq + i;
                    if (T.IsNegativeInfinity(max))
                    {
                        dst.Clear();
                        *lseAt = T.NegativeInfinity;
                        continue;
                    }
                    Array.Clear(acc);
                    var sum = RowValues(z, main, b, h, mainRange, sp, max, acc)
                        + RowValues(z, side, b, h, sideRange, sideScores, max, acc);
                    TensorPrimitives.Multiply(acc, T.One / sum, dst);
                    *lseAt = max + T.Log(sum);
                }
            }
        });
    }

    // scores[j − lo] = q·k_j + bias + mask (−∞ outside the band) for keys [lo, hi); returns their maximum.
    private static T RowScores<T>(AttentionSizes z, in AttentionKeySet<T> set, int b, int h, int i,
        ReadOnlySpan<T> query, (int Lo, int Hi) range, T* scores) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var count = range.Hi - range.Lo;
        if (set.Tk == 0 || count == 0)
            return T.NegativeInfinity;
        T* keys = set.K + b * set.KB + set.KvHead(h, z.H) * set.KH;
        for (var j = 0; j < count; j++)
            scores[j] = TensorPrimitives.Dot(query, new ReadOnlySpan<T>(keys + (range.Lo + j) * set.KT, z.D));
        T* bias = set.Table is null ? null : set.BiasByOffset + (long)h * set.MapLen;
        T* mask = set.MaskAdd is null ? null : set.MaskAdd + (long)b * set.Tk + range.Lo;
        long qpos = set.QueryPosition(b, z.Tq, i);
        return set.KeyPositions is null
            ? ScoreRun(set, scores, count, range.Lo, qpos, bias, mask)
            : ScoreGathered(set, scores, count, set.KeyPositions + (long)b * set.Tk + range.Lo, qpos, bias, mask);
    }

    // acc += Σ_j e^(s_j − max)·v_j over keys [lo, hi); returns Σ_j e^(s_j − max).
    private static T RowValues<T>(AttentionSizes z, in AttentionKeySet<T> set, int b, int h, (int Lo, int Hi) range,
        T* scores, T max, T[] acc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var count = range.Hi - range.Lo;
        if (set.Tk == 0 || count == 0)
            return T.Zero;
        var sum = AttentionRows.ExpShifted(scores, count, max);
        T* values = set.V + b * set.VB + set.KvHead(h, z.H) * set.VH;
        for (var j = 0; j < count; j++)
        {
            if (scores[j] != T.Zero)
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<T>(values + (range.Lo + j) * set.VT, z.D), scores[j], acc, acc);
        }
        return sum;
    }
}
