// Argument checks every backend makes the same way: byte ranges of transfers, views that must stay inside their
// buffer, and the operand shapes of a batched matrix product.
using System;

namespace CoLT5.Tensors.Backends;

/// <summary>Shared validation for <see cref="IBackend"/> implementations (typed errors, checked before any work).</summary>
public static class BackendChecks
{
    /// <summary>Bytes [offset, offset + count) must lie inside the buffer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">They do not.</exception>
    public static void ByteRange(IDeviceBuffer buffer, long byteOffset, long count)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        var bytes = buffer.Length * buffer.DType.SizeOf();
        if (byteOffset < 0 || count < 0 || byteOffset + count > bytes)
            throw new ArgumentOutOfRangeException(nameof(byteOffset),
                $"bytes [{byteOffset}, {byteOffset + count}) lie outside a buffer of {bytes} bytes");
    }

    /// <summary>Every element the view can address must lie inside its buffer, so kernels need no further checks.</summary>
    /// <exception cref="TensorException">The view reaches outside (named by <paramref name="backend"/>).</exception>
    public static void Inside(in TensorView view, string backend)
    {
        if (view.NumElements == 0)
            return;
        long lo = view.Offset, hi = view.Offset;
        for (var i = 0; i < view.Rank; i++)
        {
            var span = (view.Shape[i] - 1) * view.Strides[i];
            if (span < 0)
                lo += span;
            else
                hi += span;
        }
        if (lo < 0 || hi >= view.Buffer.Length)
            throw new TensorException(backend, $"view {view} addresses elements [{lo}, {hi}] outside its buffer " +
                $"of {view.Buffer.Length} elements");
    }

    /// <summary>
    /// The sizes of c = a·b for (..., M, K)·(..., K, N) → (..., M, N) with equal batch dims, after checking ranks
    /// and shapes.
    /// </summary>
    /// <exception cref="ShapeMismatchException">The shapes do not make that product.</exception>
    public static (int M, int N, int K) MatMulSizes(in TensorView a, in TensorView b, in TensorView c)
    {
        var rank = c.Rank;
        if (rank < 2 || a.Rank != rank || b.Rank != rank)
            throw new ShapeMismatchException("matmul", a.Shape, b.Shape, $"operands must have the output's rank {rank}");
        int m = c.Shape[^2], n = c.Shape[^1], k = a.Shape[^1];
        if (a.Shape[^2] != m || b.Shape[^2] != k || b.Shape[^1] != n)
            throw new ShapeMismatchException("matmul", a.Shape, b.Shape, $"cannot produce {c.Shape}");
        for (var i = 0; i < rank - 2; i++)
        {
            if (a.Shape[i] != c.Shape[i] || b.Shape[i] != c.Shape[i])
                throw new ShapeMismatchException("matmul", a.Shape, b.Shape, "batch dimensions must equal the output's");
        }
        return (m, n, k);
    }
}
