// Fused row kernels: softmax / log-softmax (forward, backward), T5 RMSNorm (forward, backward) and cross-entropy
// (forward, backward). Rows are contiguous; each row is one pass (or two) over L1-resident data.
// Oracles: ReferenceBackend.Softmax / RmsNorm / CrossEntropy.
using System;
using System.Numerics;
using System.Numerics.Tensors;
using CoLT5.Backends.Cpu.Threading;

namespace CoLT5.Backends.Cpu.Kernels;

/// <summary>Row-wise fused neural-network kernels over raw pointers.</summary>
internal static unsafe class NnKernels
{
    public static void Softmax<T>(T* x, T* y, long rows, int n, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CpuParallel.For(rows, 3L * n, (lo, hi) =>
        {
            for (var r = lo; r < hi; r++)
            {
                var xs = new ReadOnlySpan<T>(x + r * n, n);
                var ys = new Span<T>(y + r * n, n);
                var m = TensorPrimitives.Max(xs);
                if (log)
                {
                    // y = x − (m + log Σ e^(x−m)); an all −inf row gives NaN, as in PyTorch.
                    var lse = m + T.Log(ReduceKernels.SumExpShifted(xs, m));
                    TensorPrimitives.Subtract(xs, lse, ys);
                }
                else
                {
                    TensorPrimitives.Subtract(xs, m, ys);
                    VectorMath.Exp(ys, ys);
                    var sum = TensorPrimitives.Sum<T>(ys);
                    TensorPrimitives.Multiply(ys, T.One / sum, ys);
                }
            }
        });
    }

    public static void SoftmaxBackward<T>(T* y, T* dy, T* dx, long rows, int n, bool log)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CpuParallel.For(rows, 3L * n, (lo, hi) =>
        {
            for (var r = lo; r < hi; r++)
            {
                var ys = new ReadOnlySpan<T>(y + r * n, n);
                var dys = new ReadOnlySpan<T>(dy + r * n, n);
                var dxs = new Span<T>(dx + r * n, n);
                if (log)
                {
                    // dx = dy − softmax·Σdy, softmax = e^y
                    var sum = TensorPrimitives.Sum(dys);
                    VectorMath.Exp(ys, dxs);
                    TensorPrimitives.Multiply(dxs, sum, dxs);
                    TensorPrimitives.Subtract(dys, dxs, dxs);
                }
                else
                {
                    // dx = y·(dy − Σ dy·y)
                    var dot = TensorPrimitives.Dot(dys, ys);
                    TensorPrimitives.Subtract(dys, dot, dxs);
                    TensorPrimitives.Multiply(dxs, ys, dxs);
                }
            }
        });
    }

    public static void RmsNorm<T>(T* x, T* w, T* y, T* rstd, long rows, int d, T eps)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var weight = new ReadOnlySpan<T>(w, d);
        var dim = T.CreateChecked(d);
        CpuParallel.For(rows, 2L * d, (lo, hi) =>
        {
            var wv = new ReadOnlySpan<T>(w, d);
            for (var r = lo; r < hi; r++)
            {
                var xs = new ReadOnlySpan<T>(x + r * d, d);
                var ys = new Span<T>(y + r * d, d);
                var s = T.One / T.Sqrt(TensorPrimitives.SumOfSquares(xs) / dim + eps);
                rstd[r] = s;
                TensorPrimitives.Multiply(xs, s, ys);
                TensorPrimitives.Multiply(ys, wv, ys);
            }
        });
        _ = weight;
    }

    /// <summary>dx = rstd·g − x·rstd³·(g·x)/D with g = dy·w; dw = Σ_rows dy·x·rstd.</summary>
    public static void RmsNormBackward<T>(T* x, T* w, T* rstd, T* dy, T* dx, T* dw, long rows, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var dim = T.CreateChecked(d);
        // One dw partial per range, summed in range order afterwards: the result never depends on thread timing.
        var ranges = CpuParallel.RangeCount(rows, 4L * d);
        var partials = new T[(long)Math.Max(ranges, 1) * d];
        CpuParallel.ForRanges(ranges, rows, (range, lo, hi) =>
        {
            var partial = partials.AsSpan(range * d, d);
            var g = new T[d];
            var wv = new ReadOnlySpan<T>(w, d);
            for (var r = lo; r < hi; r++)
            {
                var xs = new ReadOnlySpan<T>(x + r * d, d);
                var dys = new ReadOnlySpan<T>(dy + r * d, d);
                var dxs = new Span<T>(dx + r * d, d);
                var s = rstd[r];
                TensorPrimitives.Multiply(dys, wv, g);
                var dot = TensorPrimitives.Dot<T>(g, xs);
                TensorPrimitives.Multiply(xs, -(s * s * s * dot / dim), dxs);
                TensorPrimitives.MultiplyAdd<T>(g, s, dxs, dxs);
                // dw partial += dy·x·rstd
                TensorPrimitives.Multiply(dys, xs, g);
                TensorPrimitives.MultiplyAdd<T>(g, s, partial, partial);
            }
        });
        var total = new Span<T>(dw, d);
        total.Clear();
        for (var r = 0; r < ranges; r++)
            TensorPrimitives.Add(total, partials.AsSpan(r * d, d), total);
    }

    public static void CrossEntropy<T>(T* logits, int* targets, T* nll, T* lse, long rows, int v, int ignoreIndex)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CpuParallel.For(rows, v, (lo, hi) =>
        {
            for (var r = lo; r < hi; r++)
            {
                var xs = new ReadOnlySpan<T>(logits + r * v, v);
                var m = TensorPrimitives.Max(xs);
                var l = T.IsInfinity(m) || T.IsNaN(m) ? m : m + T.Log(ReduceKernels.SumExpShifted(xs, m));
                lse[r] = l;
                var t = targets[r];
                nll[r] = t == ignoreIndex ? T.Zero : l - xs[t];
            }
        });
    }

    public static void CrossEntropyBackward<T>(T* logits, int* targets, T* lse, T* gNll, T* gLse, T* dx, long rows,
        int v, int ignoreIndex) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CpuParallel.For(rows, 3L * v, (lo, hi) =>
        {
            for (var r = lo; r < hi; r++)
            {
                var xs = new ReadOnlySpan<T>(logits + r * v, v);
                var dxs = new Span<T>(dx + r * v, v);
                var t = targets[r];
                var gn = t == ignoreIndex ? T.Zero : gNll[r];
                // dx = (gNll + gLse)·softmax − gNll·onehot(t)
                TensorPrimitives.Subtract(xs, lse[r], dxs);
                VectorMath.Exp(dxs, dxs);
                TensorPrimitives.Multiply(dxs, gn + gLse[r], dxs);
                if (t != ignoreIndex)
                    dxs[t] -= gn;
            }
        });
    }
}
