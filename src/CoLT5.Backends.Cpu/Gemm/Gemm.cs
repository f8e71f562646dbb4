// Public GEMM entry points: argument checks, element-type dispatch (float / double), the trivial cases
// (empty C, k = 0 or alpha = 0 → C = beta·C), the one-row product as dot products, and the choice of single-,
// intra-product or across-batch threading.
using System;
using System.Numerics;
using System.Numerics.Tensors;
using CoLT5.Backends.Cpu.Threading;

namespace CoLT5.Backends.Cpu.Gemm;

/// <summary>
/// Dense matrix multiply C = alpha·A·B + beta·C over arbitrarily strided float or double operands, using a
/// cache-blocked, packed, SIMD register-blocked kernel (AVX-512, AVX2 or scalar) on up to maxThreads threads.
/// </summary>
internal static unsafe class Gemm
{
    /// <summary>
    /// C[m×n] = alpha · A[m×k] · B[k×n] + beta · C. A element (i,p) is at a[i·aRowStride + p·aColStride], B element
    /// (p,j) at b[p·bRowStride + j·bColStride], C element (i,j) at c[i·ldc + j]. beta = 0 does not read C; k = 0 or
    /// alpha = 0 gives C = beta·C without reading A or B.
    /// </summary>
    /// <typeparam name="T">float or double; anything else throws <see cref="NotSupportedException"/>.</typeparam>
    /// <param name="m">Rows of A and C.</param>
    /// <param name="n">Columns of B and C.</param>
    /// <param name="k">Columns of A and rows of B.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">A's (0,0) element.</param>
    /// <param name="aRowStride">Elements between A(i,p) and A(i+1,p).</param>
    /// <param name="aColStride">Elements between A(i,p) and A(i,p+1).</param>
    /// <param name="b">B's (0,0) element.</param>
    /// <param name="bRowStride">Elements between B(p,j) and B(p+1,j).</param>
    /// <param name="bColStride">Elements between B(p,j) and B(p,j+1).</param>
    /// <param name="beta">Scale of the existing C.</param>
    /// <param name="c">C's (0,0) element (C rows are contiguous).</param>
    /// <param name="ldc">Elements between C(i,j) and C(i+1,j).</param>
    /// <param name="maxThreads">Upper bound on the threads used (≥ 1).</param>
    public static void Multiply<T>(int m, int n, int k, T alpha,
        T* a, long aRowStride, long aColStride,
        T* b, long bRowStride, long bColStride,
        T beta, T* c, long ldc, int maxThreads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckType<T>();
        CheckSizes(m, n, k, maxThreads);
        if (m == 0 || n == 0)
        {
            return;
        }

        ArgumentNullException.ThrowIfNull(c);
        if (k == 0 || alpha == T.Zero)
        {
            Scale(m, n, beta, c, ldc);
            return;
        }

        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (m == 1 && aColStride == 1 && bRowStride == 1)
        {
            RowTimesColumns(n, k, alpha, a, b, bColStride, beta, c, maxThreads);
            return;
        }

        GemmArgs<T> args = Args(m, n, k, alpha, a, aRowStride, aColStride, b, bRowStride, bColStride, beta, c, ldc);
        int threads = GemmParallel.ChooseThreads(m, n, k, maxThreads);
        if (threads > 1)
        {
            GemmParallel.Multiply(args, threads);
            return;
        }

        GemmWorkspace ws = GemmWorkspace.Rent();
        try
        {
            GemmDriver.Run(args, 0, m, 0, n, ws);
        }
        finally
        {
            GemmWorkspace.Return(ws);
        }
    }

    /// <summary>
    /// C (1 × n) = alpha · a · B + beta · C for a contiguous row a and a B whose columns are contiguous (a weight
    /// matrix W read as Wᵀ, as a decoding step's linear layers and LM head do): n dot products that read B once,
    /// with no packing (packing would copy all of B for one row).
    /// </summary>
    private static void RowTimesColumns<T>(int n, int k, T alpha, T* a, T* b, long bColStride, T beta, T* c,
        int maxThreads) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var ranges = (long)n * k < 1 << 15 ? 1 : Math.Min(maxThreads, n);
        CpuParallel.ForRanges(ranges, n, (_, lo, hi) =>
        {
            var row = new ReadOnlySpan<T>(a, k);
            for (var j = lo; j < hi; j++)
            {
                var dot = alpha * TensorPrimitives.Dot(row, new ReadOnlySpan<T>(b + j * bColStride, k));
                c[j] = beta == T.Zero ? dot : dot + beta * c[j];
            }
        });
    }

    /// <summary>
    /// For each i in [0, batch): C_i = alpha · A_i · B_i + beta · C_i with A_i = a + aOffsets[i],
    /// B_i = b + bOffsets[i], C_i = c + cOffsets[i] (element offsets) and the strides of
    /// <see cref="Multiply{T}"/>. A and B offsets may repeat (broadcast); the C blocks must not overlap.
    /// Whole products are spread across the threads (dynamically) for every full round of the batch; a remainder
    /// of large products is split inside each product instead.
    /// </summary>
    /// <typeparam name="T">float or double; anything else throws <see cref="NotSupportedException"/>.</typeparam>
    /// <param name="batch">Number of products.</param>
    /// <param name="m">Rows of each A and C.</param>
    /// <param name="n">Columns of each B and C.</param>
    /// <param name="k">Columns of each A and rows of each B.</param>
    /// <param name="alpha">Scale of the products.</param>
    /// <param name="a">Base of the A matrices.</param>
    /// <param name="aOffsets">Element offset of each A from <paramref name="a"/> (batch entries).</param>
    /// <param name="aRowStride">Row stride of every A.</param>
    /// <param name="aColStride">Column stride of every A.</param>
    /// <param name="b">Base of the B matrices.</param>
    /// <param name="bOffsets">Element offset of each B from <paramref name="b"/> (batch entries).</param>
    /// <param name="bRowStride">Row stride of every B.</param>
    /// <param name="bColStride">Column stride of every B.</param>
    /// <param name="beta">Scale of the existing C matrices.</param>
    /// <param name="c">Base of the C matrices.</param>
    /// <param name="cOffsets">Element offset of each C from <paramref name="c"/> (batch entries, distinct).</param>
    /// <param name="ldc">Row stride of every C.</param>
    /// <param name="maxThreads">Upper bound on the threads used (≥ 1).</param>
    public static void MultiplyBatched<T>(int batch, int m, int n, int k, T alpha,
        T* a, ReadOnlySpan<long> aOffsets, long aRowStride, long aColStride,
        T* b, ReadOnlySpan<long> bOffsets, long bRowStride, long bColStride,
        T beta, T* c, ReadOnlySpan<long> cOffsets, long ldc, int maxThreads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckType<T>();
        CheckSizes(m, n, k, maxThreads);
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfLessThan(aOffsets.Length, batch, nameof(aOffsets));
        ArgumentOutOfRangeException.ThrowIfLessThan(bOffsets.Length, batch, nameof(bOffsets));
        ArgumentOutOfRangeException.ThrowIfLessThan(cOffsets.Length, batch, nameof(cOffsets));
        if (batch == 0 || m == 0 || n == 0)
        {
            return;
        }

        // Whole products per thread (no shared-operand re-packing, no splitting overhead) for as many full rounds
        // as the batch allows; the remainder is split inside each product when the products are big enough.
        int threadsAcross = Math.Min(Math.Min(maxThreads, GemmThreadPool.MaxParallelism), batch);
        int across = 0;
        if (threadsAcross > 1 && k > 0 && alpha != T.Zero)
        {
            bool splittable = GemmParallel.ChooseThreads(m, n, k, maxThreads) >= threadsAcross;
            across = splittable ? batch - (batch % threadsAcross) : batch;
        }

        if (across > 0)
        {
            ArgumentNullException.ThrowIfNull(a);
            ArgumentNullException.ThrowIfNull(b);
            ArgumentNullException.ThrowIfNull(c);
            GemmArgs<T> args = Args(m, n, k, alpha, a, aRowStride, aColStride, b, bRowStride, bColStride, beta, c,
                ldc);
            fixed (long* ao = aOffsets)
            fixed (long* bo = bOffsets)
            fixed (long* co = cOffsets)
            {
                GemmParallel.MultiplyAcrossBatch(args, across, ao, bo, co, threadsAcross);
            }
        }

        for (int i = across; i < batch; i++)
        {
            Multiply(m, n, k, alpha, a + aOffsets[i], aRowStride, aColStride, b + bOffsets[i], bRowStride,
                bColStride, beta, c + cOffsets[i], ldc, maxThreads);
        }
    }

    private static GemmArgs<T> Args<T>(int m, int n, int k, T alpha, T* a, long aRowStride, long aColStride,
        T* b, long bRowStride, long bColStride, T beta, T* c, long ldc)
        where T : unmanaged
        => new()
        {
            M = m,
            N = n,
            K = k,
            Alpha = alpha,
            Beta = beta,
            A = a,
            ARowStride = aRowStride,
            AColStride = aColStride,
            B = b,
            BRowStride = bRowStride,
            BColStride = bColStride,
            C = c,
            Ldc = ldc,
        };

    /// <summary>C = beta·C; beta = 0 writes zeros without reading C (which may hold NaN).</summary>
    private static void Scale<T>(int m, int n, T beta, T* c, long ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (beta == T.One)
        {
            return;
        }

        for (int i = 0; i < m; i++)
        {
            var row = new Span<T>(c + (i * ldc), n);
            if (beta == T.Zero)
            {
                row.Clear();
            }
            else
            {
                for (int j = 0; j < row.Length; j++)
                {
                    row[j] *= beta;
                }
            }
        }
    }

    private static void CheckType<T>()
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
        {
            throw new NotSupportedException($"GEMM supports float and double, not {typeof(T).Name}.");
        }
    }

    private static void CheckSizes(int m, int n, int k, int maxThreads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxThreads, 1);
    }
}
