// AVX2 micro-kernel (used when AVX-512 is unavailable): a 6 × 2W tile of C (W = Vector256<T>.Count: 6×16 float,
// 6×8 double) in 12 ymm accumulators, fitting the 16 ymm registers with the two B vectors and one broadcast.
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CoLT5.Backends.Cpu.Gemm;

/// <summary>The Vector256 register-blocked GEMM micro-kernel over packed A and B micro-panels.</summary>
internal static unsafe class MicroKernel256
{
    /// <summary>Rows of the register tile.</summary>
    public const int Mr = 6;

    /// <summary>
    /// C[0..6, 0..2W) = alpha · Σ_p a[p·6 + i] · b[p·2W + j] + beta · C (C is not read when beta is zero).
    /// </summary>
    /// <param name="kc">Depth of the packed panels.</param>
    /// <param name="a">Packed A micro-panel: kc steps of 6 values.</param>
    /// <param name="b">Packed B micro-panel: kc steps of 2W values.</param>
    /// <param name="c">Top-left element of the C tile.</param>
    /// <param name="ldc">Row stride of C in elements.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="beta">Scale of the existing C.</param>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Run<T>(int kc, T* a, T* b, T* c, long ldc, T alpha, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = Vector256<T>.Count;
        if (Sse.IsSupported)
        {
            T* pc = c;
            for (int i = 0; i < Mr; i++)
            {
                Sse.Prefetch0(pc);
                Sse.Prefetch0(pc + (2 * w) - 1);
                pc += ldc;
            }
        }

        Vector256<T> z = Vector256<T>.Zero;
        Vector256<T> c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z,
            c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
        for (int p = 0; p < kc; p++)
        {
            Vector256<T> b0 = Vector256.Load(b);
            Vector256<T> b1 = Vector256.Load(b + w);
            Vector256<T> t;
            t = Vector256.Create(a[0]);
            c00 = Fma(t, b0, c00);
            c01 = Fma(t, b1, c01);
            t = Vector256.Create(a[1]);
            c10 = Fma(t, b0, c10);
            c11 = Fma(t, b1, c11);
            t = Vector256.Create(a[2]);
            c20 = Fma(t, b0, c20);
            c21 = Fma(t, b1, c21);
            t = Vector256.Create(a[3]);
            c30 = Fma(t, b0, c30);
            c31 = Fma(t, b1, c31);
            t = Vector256.Create(a[4]);
            c40 = Fma(t, b0, c40);
            c41 = Fma(t, b1, c41);
            t = Vector256.Create(a[5]);
            c50 = Fma(t, b0, c50);
            c51 = Fma(t, b1, c51);
            a += Mr;
            b += 2 * w;
        }

        Vector256<T> va = Vector256.Create(alpha);
        if (beta == T.Zero)
        {
            Store(c + (0 * ldc), c00, c01, va);
            Store(c + (1 * ldc), c10, c11, va);
            Store(c + (2 * ldc), c20, c21, va);
            Store(c + (3 * ldc), c30, c31, va);
            Store(c + (4 * ldc), c40, c41, va);
            Store(c + (5 * ldc), c50, c51, va);
        }
        else if (beta == T.One)
        {
            Accumulate(c + (0 * ldc), c00, c01, va);
            Accumulate(c + (1 * ldc), c10, c11, va);
            Accumulate(c + (2 * ldc), c20, c21, va);
            Accumulate(c + (3 * ldc), c30, c31, va);
            Accumulate(c + (4 * ldc), c40, c41, va);
            Accumulate(c + (5 * ldc), c50, c51, va);
        }
        else
        {
            Vector256<T> vb = Vector256.Create(beta);
            Update(c + (0 * ldc), c00, c01, va, vb);
            Update(c + (1 * ldc), c10, c11, va, vb);
            Update(c + (2 * ldc), c20, c21, va, vb);
            Update(c + (3 * ldc), c30, c31, va, vb);
            Update(c + (4 * ldc), c40, c41, va, vb);
            Update(c + (5 * ldc), c50, c51, va, vb);
        }
    }

    /// <summary>Fused multiply-add x·y + acc for float or double lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<T> Fma<T>(Vector256<T> x, Vector256<T> y, Vector256<T> acc)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            return Vector256.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        }

        return Vector256.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(T* row, Vector256<T> x0, Vector256<T> x1, Vector256<T> va)
        where T : unmanaged
    {
        Vector256.Store(x0 * va, row);
        Vector256.Store(x1 * va, row + Vector256<T>.Count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate<T>(T* row, Vector256<T> x0, Vector256<T> x1, Vector256<T> va)
        where T : unmanaged
    {
        T* row1 = row + Vector256<T>.Count;
        Vector256.Store(Fma(x0, va, Vector256.Load(row)), row);
        Vector256.Store(Fma(x1, va, Vector256.Load(row1)), row1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update<T>(T* row, Vector256<T> x0, Vector256<T> x1, Vector256<T> va, Vector256<T> vb)
        where T : unmanaged
    {
        T* row1 = row + Vector256<T>.Count;
        Vector256.Store(Fma(x0, va, Vector256.Load(row) * vb), row);
        Vector256.Store(Fma(x1, va, Vector256.Load(row1) * vb), row1);
    }
}
