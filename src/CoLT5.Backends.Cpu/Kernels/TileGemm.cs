// Small register-blocked products for attention tiles: C (m × n) (+)= A (m × k) · B (k × n) with A read by scalar
// broadcasts through any strides (so Aᵀ costs nothing) and B, C rows of unit stride. Blocks of 4 rows × 4 vectors
// keep 16 accumulators in registers; the column tail runs scalar with the same fused multiply-adds.
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using CoLT5.Backends.Cpu.Gemm;

namespace CoLT5.Backends.Cpu.Kernels;

/// <summary>Tile products for the fused attention kernels (L1/L2-resident operands, no packing).</summary>
internal static unsafe class TileGemm
{
    /// <summary>
    /// C[i, j] = (accumulate ? C[i, j] : 0) + Σ_p A[i·aRow + p·aCol] · B[p·ldb + j] for i &lt; m, j &lt; n, p &lt; k.
    /// </summary>
    public static void MulAdd<T>(int m, int n, int k, T* a, long aRow, long aCol, T* b, long ldb, T* c, long ldc,
        bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var col = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var w = Vector512<T>.Count;
            for (; col + 4 * w <= n; col += 4 * w)
                Columns512x4(m, k, a, aRow, aCol, b + col, ldb, c + col, ldc, accumulate);
            for (; col + w <= n; col += w)
                Columns512x1(m, k, a, aRow, aCol, b + col, ldb, c + col, ldc, accumulate);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var w = Vector256<T>.Count;
            for (; col + 4 * w <= n; col += 4 * w)
                Columns256x4(m, k, a, aRow, aCol, b + col, ldb, c + col, ldc, accumulate);
            for (; col + w <= n; col += w)
                Columns256x1(m, k, a, aRow, aCol, b + col, ldb, c + col, ldc, accumulate);
        }
        if (col < n)
            ColumnsScalar(m, n - col, k, a, aRow, aCol, b + col, ldb, c + col, ldc, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Columns512x4<T>(int m, int k, T* a, long aRow, long aCol, T* b, long ldb, T* c, long ldc,
        bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var w = Vector512<T>.Count;
        var i = 0;
        for (; i + 4 <= m; i += 4)
        {
            T* a0 = a + i * aRow, a1 = a0 + aRow, a2 = a1 + aRow, a3 = a2 + aRow;
            T* c0 = c + i * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
            var z = Vector512<T>.Zero;
            Vector512<T> s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z,
                s20 = z, s21 = z, s22 = z, s23 = z, s30 = z, s31 = z, s32 = z, s33 = z;
            T* bp = b;
            for (var p = 0; p < k; p++, bp += ldb)
            {
                var b0 = Vector512.Load(bp);
                var b1 = Vector512.Load(bp + w);
                var b2 = Vector512.Load(bp + 2 * w);
                var b3 = Vector512.Load(bp + 3 * w);
                var t = Vector512.Create(a0[p * aCol]);
                s00 = MicroKernel512.Fma(t, b0, s00);
                s01 = MicroKernel512.Fma(t, b1, s01);
                s02 = MicroKernel512.Fma(t, b2, s02);
                s03 = MicroKernel512.Fma(t, b3, s03);
                t = Vector512.Create(a1[p * aCol]);
                s10 = MicroKernel512.Fma(t, b0, s10);
                s11 = MicroKernel512.Fma(t, b1, s11);
                s12 = MicroKernel512.Fma(t, b2, s12);
                s13 = MicroKernel512.Fma(t, b3, s13);
                t = Vector512.Create(a2[p * aCol]);
                s20 = MicroKernel512.Fma(t, b0, s20);
                s21 = MicroKernel512.Fma(t, b1, s21);
                s22 = MicroKernel512.Fma(t, b2, s22);
                s23 = MicroKernel512.Fma(t, b3, s23);
                t = Vector512.Create(a3[p * aCol]);
                s30 = MicroKernel512.Fma(t, b0, s30);
                s31 = MicroKernel512.Fma(t, b1, s31);
                s32 = MicroKernel512.Fma(t, b2, s32);
                s33 = MicroKernel512.Fma(t, b3, s33);
            }
            Store512(c0, w, accumulate, s00, s01, s02, s03);
            Store512(c1, w, accumulate, s10, s11, s12, s13);
            Store512(c2, w, accumulate, s20, s21, s22, s23);
            Store512(c3, w, accumulate, s30, s31, s32, s33);
        }
        for (; i < m; i++)
        {
            T* ai = a + i * aRow;
            var z = Vector512<T>.Zero;
            Vector512<T> s0 = z, s1 = z, s2 = z, s3 = z;
            T* bp = b;
            for (var p = 0; p < k; p++, bp += ldb)
            {
                var t = Vector512.Create(ai[p * aCol]);
                s0 = MicroKernel512.Fma(t, Vector512.Load(bp), s0);
                s1 = MicroKernel512.Fma(t, Vector512.Load(bp + w), s1);
                s2 = MicroKernel512.Fma(t, Vector512.Load(bp + 2 * w), s2);
                s3 = MicroKernel512.Fma(t, Vector512.Load(bp + 3 * w), s3);
            }
            Store512(c + i * ldc, w, accumulate, s0, s1, s2, s3);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512<T>(T* row, int w, bool accumulate, Vector512<T> x0, Vector512<T> x1,
        Vector512<T> x2, Vector512<T> x3) where T : unmanaged
    {
        if (accumulate)
        {
            x0 += Vector512.Load(row);
            x1 += Vector512.Load(row + w);
            x2 += Vector512.Load(row + 2 * w);
            x3 += Vector512.Load(row + 3 * w);
        }
        x0.Store(row);
        x1.Store(row + w);
        x2.Store(row + 2 * w);
        x3.Store(row + 3 * w);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Columns512x1<T>(int m, int k, T* a, long aRow, long aCol, T* b, long ldb, T* c, long ldc,
        bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var i = 0;
        for (; i + 4 <= m; i += 4)
        {
            T* a0 = a + i * aRow, a1 = a0 + aRow, a2 = a1 + aRow, a3 = a2 + aRow;
            var z = Vector512<T>.Zero;
            Vector512<T> s0 = z, s1 = z, s2 = z, s3 = z;
            T* bp = b;
            for (var p = 0; p < k; p++, bp += ldb)
            {
                var bv = Vector512.Load(bp);
                s0 = MicroKernel512.Fma(Vector512.Create(a0[p * aCol]), bv, s0);
                s1 = MicroKernel512.Fma(Vector512.Create(a1[p * aCol]), bv, s1);
                s2 = MicroKernel512.Fma(Vector512.Create(a2[p * aCol]), bv, s2);
                s3 = MicroKernel512.Fma(Vector512.Create(a3[p * aCol]), bv, s3);
            }
            T* c0 = c + i * ldc;
            StoreOne512(c0, accumulate, s0);
            StoreOne512(c0 + ldc, accumulate, s1);
            StoreOne512(c0 + 2 * ldc, accumulate, s2);
            StoreOne512(c0 + 3 * ldc, accumulate, s3);
        }
        for (; i < m; i++)
        {
            T* ai = a + i * aRow;
            var s = Vector512<T>.Zero;
            T* bp = b;
            for (var p = 0; p < k; p++, bp += ldb)
                s = MicroKernel512.Fma(Vector512.Create(ai[p * aCol]), Vector512.Load(bp), s);
            StoreOne512(c + i * ldc, accumulate, s);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreOne512<T>(T* row, bool accumulate, Vector512<T> x) where T : unmanaged =>
        (accumulate ? x + Vector512.Load(row) : x).Store(row);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Columns256x4<T>(int m, int k, T* a, long aRow, long aCol, T* b, long ldb, T* c, long ldc,
        bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var w = Vector256<T>.Count;
        for (var i = 0; i < m; i++)
        {
            T* ai = a + i * aRow;
            var z = Vector256<T>.Zero;
            Vector256<T> s0 = z, s1 = z, s2 = z, s3 = z;
            T* bp = b;
            for (var p = 0; p < k; p++, bp += ldb)
            {
                var t = Vector256.Create(ai[p * aCol]);
                s0 = MicroKernel256.Fma(t, Vector256.Load(bp), s0);
                s1 = MicroKernel256.Fma(t, Vector256.Load(bp + w), s1);
                s2 = MicroKernel256.Fma(t, Vector256.Load(bp + 2 * w), s2);
                s3 = MicroKernel256.Fma(t, Vector256.Load(bp + 3 * w), s3);
            }
            T* ci = c + i * ldc;
            if (accumulate)
            {
                s0 += Vector256.Load(ci);
                s1 += Vector256.Load(ci + w);
                s2 += Vector256.Load(ci + 2 * w);
                s3 += Vector256.Load(ci + 3 * w);
            }
            s0.Store(ci);
            s1.Store(ci + w);
            s2.Store(ci + 2 * w);
            s3.Store(ci + 3 * w);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Columns256x1<T>(int m, int k, T* a, long aRow, long aCol, T* b, long ldb, T* c, long ldc,
        bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (var i = 0; i < m; i++)
        {
            T* ai = a + i * aRow;
            var s = Vector256<T>.Zero;
            T* bp = b;
            for (var p = 0; p < k; p++, bp += ldb)
                s = MicroKernel256.Fma(Vector256.Create(ai[p * aCol]), Vector256.Load(bp), s);
            T* ci = c + i * ldc;
            (accumulate ? s + Vector256.Load(ci) : s).Store(ci);
        }
    }

    private static void ColumnsScalar<T>(int m, int n, int k, T* a, long aRow, long aCol, T* b, long ldb, T* c,
        long ldc, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (var i = 0; i < m; i++)
        {
            T* ai = a + i * aRow, ci = c + i * ldc;
            for (var j = 0; j < n; j++)
            {
                var s = T.Zero;
                for (var p = 0; p < k; p++)
                    s = T.FusedMultiplyAdd(ai[p * aCol], b[p * ldb + j], s);
                ci[j] = accumulate ? ci[j] + s : s;
            }
        }
    }
}
