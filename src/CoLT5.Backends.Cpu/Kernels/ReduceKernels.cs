// Axis reductions over a contiguous (outer, length, inner) block: row reductions when inner = 1 (TensorPrimitives
// and vector exp), column accumulation across rows otherwise. Oracle: ReferenceBackend.Reduce.
using System;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using CoLT5.Backends.Cpu.Threading;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Cpu.Kernels;

/// <summary>Sum / mean / max / min / logsumexp along the middle axis of a contiguous (outer, length, inner) array.</summary>
internal static unsafe class ReduceKernels
{
    public static void Reduce<T>(ReduceOp op, T* x, T* y, long outer, int length, long inner)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (inner == 1)
        {
            CpuParallel.For(outer, length, (lo, hi) =>
            {
                for (var o = lo; o < hi; o++)
                    y[o] = ReduceRow(op, new ReadOnlySpan<T>(x + o * length, length));
            });
            return;
        }
        // Columns: split each outer slice's inner extent into chunks so both cores work even when outer = 1.
        const int chunk = 1024;
        var chunks = (inner + chunk - 1) / chunk;
        CpuParallel.For(outer * chunks, (long)length * Math.Min(inner, chunk), (lo, hi) =>
        {
            for (var item = lo; item < hi; item++)
            {
                var o = item / chunks;
                var c0 = item % chunks * chunk;
                var width = (int)Math.Min(chunk, inner - c0);
                ReduceColumns(op, x + o * length * inner + c0, inner, length, new Span<T>(y + o * inner + c0, width));
            }
        });
    }

    private static T ReduceRow<T>(ReduceOp op, ReadOnlySpan<T> row) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case ReduceOp.Sum: return TensorPrimitives.Sum(row);
            case ReduceOp.Mean: return TensorPrimitives.Sum(row) / T.CreateChecked(row.Length);
            case ReduceOp.Max: return row.Length == 0 ? T.NegativeInfinity : TensorPrimitives.Max(row);
            case ReduceOp.Min: return row.Length == 0 ? T.PositiveInfinity : TensorPrimitives.Min(row);
            case ReduceOp.LogSumExp:
                if (row.Length == 0)
                    return T.NegativeInfinity;
                var m = TensorPrimitives.Max(row);
                if (T.IsInfinity(m) || T.IsNaN(m))
                    return m;           // all -inf → -inf; any +inf → +inf; NaN propagates
                return m + T.Log(SumExpShifted(row, m));
            default: throw new NotSupportedException(op.ToString());
        }
    }

    /// <summary>Σ e^(x − shift) over a row, vectorised.</summary>
    public static T SumExpShifted<T>(ReadOnlySpan<T> row, T shift) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var i = 0;
        var n = row.Length;
        var total = T.Zero;
        fixed (T* p = row)
        {
            if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
            {
                var acc = Vector512<T>.Zero;
                var s = Vector512.Create(shift);
                for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                    acc += VectorMath.Exp(Vector512.Load(p + i) - s);
                total = Vector512.Sum(acc);
            }
            else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
            {
                var acc = Vector256<T>.Zero;
                var s = Vector256.Create(shift);
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                    acc += VectorMath.Exp(Vector256.Load(p + i) - s);
                total = Vector256.Sum(acc);
            }
            for (; i < n; i++)
                total += T.Exp(p[i] - shift);
        }
        return total;
    }

    // y[j] = reduce over r < length of x[r·stride + j], j < y.Length.
    private static void ReduceColumns<T>(ReduceOp op, T* x, long stride, int length, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var width = y.Length;
        if (length == 0)
        {
            y.Fill(op switch
            {
                ReduceOp.Sum => T.Zero,
                ReduceOp.Mean => T.NaN,
                ReduceOp.Max or ReduceOp.LogSumExp => T.NegativeInfinity,
                _ => T.PositiveInfinity,
            });
            return;
        }
        new ReadOnlySpan<T>(x, width).CopyTo(y);
        for (var r = 1; r < length; r++)
        {
            var row = new ReadOnlySpan<T>(x + r * stride, width);
            switch (op)
            {
                case ReduceOp.Sum or ReduceOp.Mean: TensorPrimitives.Add(y, row, y); break;
                case ReduceOp.Max or ReduceOp.LogSumExp: TensorPrimitives.Max(y, row, y); break;
                case ReduceOp.Min: TensorPrimitives.Min(y, row, y); break;
            }
        }
        if (op == ReduceOp.Mean)
            TensorPrimitives.Divide(y, T.CreateChecked(length), y);
        if (op != ReduceOp.LogSumExp)
            return;
        // y holds the column max; accumulate Σ e^(x − max) in scratch, then y = max + log(sum).
        var sum = Scratch<T>.Get(width, 0);
        var term = Scratch<T>.Get(width, 1);
        sum.Clear();
        for (var r = 0; r < length; r++)
        {
            TensorPrimitives.Subtract(new ReadOnlySpan<T>(x + r * stride, width), y, term);
            VectorMath.Exp(term, term);
            TensorPrimitives.Add(sum, term, sum);
        }
        for (var j = 0; j < width; j++)
        {
            if (!T.IsInfinity(y[j]) && !T.IsNaN(y[j]))
                y[j] += T.Log(sum[j]);
        }
    }

    /// <summary>First index of the max (or min) along the middle axis; NaN counts as the extreme.</summary>
    public static void ReduceWithIndex<T>(bool max, T* x, T* values, int* indices, long outer, int length, long inner)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CpuParallel.For(outer * inner, length, (lo, hi) =>
        {
            for (var item = lo; item < hi; item++)
            {
                var o = item / inner;
                var j = item % inner;
                var p = x + o * length * inner + j;
                var best = p[0];
                var at = 0;
                for (var r = 1; r < length && !T.IsNaN(best); r++)
                {
                    var v = p[r * inner];
                    if (T.IsNaN(v) || (max ? v > best : v < best))
                    {
                        best = v;
                        at = r;
                    }
                }
                values[item] = best;
                indices[item] = at;
            }
        });
    }
}
