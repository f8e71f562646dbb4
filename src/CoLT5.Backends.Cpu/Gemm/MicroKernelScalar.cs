// Portable scalar micro-kernel (used when no SIMD is hardware accelerated): a 4 × 4 tile of C in 16 scalar
// accumulators over the same packed panel layout as the SIMD kernels.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace CoLT5.Backends.Cpu.Gemm;

/// <summary>The scalar register-blocked GEMM micro-kernel.</summary>
internal static unsafe class MicroKernelScalar
{
    /// <summary>Rows of the register tile.</summary>
    public const int Mr = 4;

    /// <summary>Columns of the register tile.</summary>
    public const int Nr = 4;

    /// <summary>C[0..4, 0..4) = alpha · Σ_p a[p·4 + i] · b[p·4 + j] + beta · C (C is not read when beta is zero).</summary>
    /// <param name="kc">Depth of the packed panels.</param>
    /// <param name="a">Packed A micro-panel: kc steps of 4 values.</param>
    /// <param name="b">Packed B micro-panel: kc steps of 4 values.</param>
    /// <param name="c">Top-left element of the C tile.</param>
    /// <param name="ldc">Row stride of C in elements.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="beta">Scale of the existing C.</param>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Run<T>(int kc, T* a, T* b, T* c, long ldc, T alpha, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T c00 = T.Zero, c01 = T.Zero, c02 = T.Zero, c03 = T.Zero;
        T c10 = T.Zero, c11 = T.Zero, c12 = T.Zero, c13 = T.Zero;
        T c20 = T.Zero, c21 = T.Zero, c22 = T.Zero, c23 = T.Zero;
        T c30 = T.Zero, c31 = T.Zero, c32 = T.Zero, c33 = T.Zero;
        for (int p = 0; p < kc; p++)
        {
            T b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
            T x = a[0];
            c00 += x * b0;
            c01 += x * b1;
            c02 += x * b2;
            c03 += x * b3;
            x = a[1];
            c10 += x * b0;
            c11 += x * b1;
            c12 += x * b2;
            c13 += x * b3;
            x = a[2];
            c20 += x * b0;
            c21 += x * b1;
            c22 += x * b2;
            c23 += x * b3;
            x = a[3];
            c30 += x * b0;
            c31 += x * b1;
            c32 += x * b2;
            c33 += x * b3;
            a += Mr;
            b += Nr;
        }

        Write(c, c00, c01, c02, c03, alpha, beta);
        Write(c + ldc, c10, c11, c12, c13, alpha, beta);
        Write(c + (2 * ldc), c20, c21, c22, c23, alpha, beta);
        Write(c + (3 * ldc), c30, c31, c32, c33, alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Write<T>(T* row, T x0, T x1, T x2, T x3, T alpha, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (beta == T.Zero)
        {
            row[0] = alpha * x0;
            row[1] = alpha * x1;
            row[2] = alpha * x2;
            row[3] = alpha * x3;
        }
        else
        {
            row[0] = (alpha * x0) + (beta * row[0]);
            row[1] = (alpha * x1) + (beta * row[1]);
            row[2] = (alpha * x2) + (beta * row[2]);
            row[3] = (alpha * x3) + (beta * row[3]);
        }
    }
}
