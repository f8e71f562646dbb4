// AVX-512 micro-kernel: a 12 × 2W tile of C (W = Vector512<T>.Count lanes: 12×32 float, 12×16 double) kept in
// 24 zmm accumulators; each k step loads two B vectors and broadcasts 12 A values (24 independent FMAs).
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CoLT5.Backends.Cpu.Gemm;

/// <summary>The Vector512 register-blocked GEMM micro-kernel over packed A and B micro-panels.</summary>
internal static unsafe class MicroKernel512
{
    /// <summary>Rows of the register tile.</summary>
    public const int Mr = 12;

    /// <summary>
    /// C[0..12, 0..2W) = alpha · Σ_p a[p·12 + i] · b[p·2W + j] + beta · C (C is not read when beta is zero).
    /// The C rows are prefetched up front so their misses overlap the k loop.
    /// </summary>
    /// <param name="kc">Depth of the packed panels.</param>
    /// <param name="a">Packed A micro-panel: kc steps of 12 values.</param>
    /// <param name="b">Packed B micro-panel: kc steps of 2W values.</param>
    /// <param name="c">Top-left element of the C tile.</param>
    /// <param name="ldc">Row stride of C in elements.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="beta">Scale of the existing C.</param>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Run<T>(int kc, T* a, T* b, T* c, long ldc, T alpha, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = Vector512<T>.Count;
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

        Vector512<T> z = Vector512<T>.Zero;
        Vector512<T> c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z,
            c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z,
            c60 = z, c61 = z, c70 = z, c71 = z, c80 = z, c81 = z,
            c90 = z, c91 = z, ca0 = z, ca1 = z, cb0 = z, cb1 = z;
        for (int p = 0; p < kc; p++)
        {
            Vector512<T> b0 = Vector512.Load(b);
            Vector512<T> b1 = Vector512.Load(b + w);
            Vector512<T> t = Vector512.Create(a[0]);
            c00 = Fma(t, b0, c00);
            c01 = Fma(t, b1, c01);
            t = Vector512.Create(a[1]);
            c10 = Fma(t, b0, c10);
            c11 = Fma(t, b1, c11);
            t = Vector512.Create(a[2]);
            c20 = Fma(t, b0, c20);
            c21 = Fma(t, b1, c21);
            t = Vector512.Create(a[3]);
            c30 = Fma(t, b0, c30);
            c31 = Fma(t, b1, c31);
            t = Vector512.Create(a[4]);
            c40 = Fma(t, b0, c40);
            c41 = Fma(t, b1, c41);
            t = Vector512.Create(a[5]);
            c50 = Fma(t, b0, c50);
            c51 = Fma(t, b1, c51);
            t = Vector512.Create(a[6]);
            c60 = Fma(t, b0, c60);
            c61 = Fma(t, b1, c61);
            t = Vector512.Create(a[7]);
            c70 = Fma(t, b0, c70);
            c71 = Fma(t, b1, c71);
            t = Vector512.Create(a[8]);
            c80 = Fma(t, b0, c80);
            c81 = Fma(t, b1, c81);
            t = Vector512.Create(a[9]);
            c90 = Fma(t, b0, c90);
            c91 = Fma(t, b1, c91);
            t = Vector512.Create(a[10]);
            ca0 = Fma(t, b0, ca0);
            ca1 = Fma(t, b1, ca1);
            t = Vector512.Create(a[11]);
            cb0 = Fma(t, b0, cb0);
            cb1 = Fma(t, b1, cb1);
            a += Mr;
            b += 2 * w;
        }

        Vector512<T> va = Vector512.Create(alpha);
        if (beta == T.Zero)
        {
            Store(c + (0 * ldc), c00, c01, va);
            Store(c + (1 * ldc), c10, c11, va);
            Store(c + (2 * ldc), c20, c21, va);
            Store(c + (3 * ldc), c30, c31, va);
            Store(c + (4 * ldc), c40, c41, va);
            Store(c + (5 * ldc), c50, c51, va);
            Store(c + (6 * ldc), c60, c61, va);
            Store(c + (7 * ldc), c70, c71, va);
            Store(c + (8 * ldc), c80, c81, va);
            Store(c + (9 * ldc), c90, c91, va);
            Store(c + (10 * ldc), ca0, ca1, va);
            Store(c + (11 * ldc), cb0, cb1, va);
        }
        else if (beta == T.One)
        {
            Accumulate(c + (0 * ldc), c00, c01, va);
            Accumulate(c + (1 * ldc), c10, c11, va);
            Accumulate(c + (2 * ldc), c20, c21, va);
            Accumulate(c + (3 * ldc), c30, c31, va);
            Accumulate(c + (4 * ldc), c40, c41, va);
            Accumulate(c + (5 * ldc), c50, c51, va);
            Accumulate(c + (6 * ldc), c60, c61, va);
            Accumulate(c + (7 * ldc), c70, c71, va);
            Accumulate(c + (8 * ldc), c80, c81, va);
            Accumulate(c + (9 * ldc), c90, c91, va);
            Accumulate(c + (10 * ldc), ca0, ca1, va);
            Accumulate(c + (11 * ldc), cb0, cb1, va);
        }
        else
        {
            Vector512<T> vb = Vector512.Create(beta);
            Update(c + (0 * ldc), c00, c01, va, vb);
            Update(c + (1 * ldc), c10, c11, va, vb);
            Update(c + (2 * ldc), c20, c21, va, vb);
            Update(c + (3 * ldc), c30, c31, va, vb);
            Update(c + (4 * ldc), c40, c41, va, vb);
            Update(c + (5 * ldc), c50, c51, va, vb);
            Update(c + (6 * ldc), c60, c61, va, vb);
            Update(c + (7 * ldc), c70, c71, va, vb);
            Update(c + (8 * ldc), c80, c81, va, vb);
            Update(c + (9 * ldc), c90, c91, va, vb);
            Update(c + (10 * ldc), ca0, ca1, va, vb);
            Update(c + (11 * ldc), cb0, cb1, va, vb);
        }
    }

    /// <summary>Fused multiply-add x·y + acc for float or double lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> Fma<T>(Vector512<T> x, Vector512<T> y, Vector512<T> acc)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            return Vector512.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        }

        return Vector512.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(T* row, Vector512<T> x0, Vector512<T> x1, Vector512<T> va)
        where T : unmanaged
    {
        Vector512.Store(x0 * va, row);
        Vector512.Store(x1 * va, row + Vector512<T>.Count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate<T>(T* row, Vector512<T> x0, Vector512<T> x1, Vector512<T> va)
        where T : unmanaged
    {
        T* row1 = row + Vector512<T>.Count;
        Vector512.Store(Fma(x0, va, Vector512.Load(row)), row);
        Vector512.Store(Fma(x1, va, Vector512.Load(row1)), row1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update<T>(T* row, Vector512<T> x0, Vector512<T> x1, Vector512<T> va, Vector512<T> vb)
        where T : unmanaged
    {
        T* row1 = row + Vector512<T>.Count;
        Vector512.Store(Fma(x0, va, Vector512.Load(row) * vb), row);
        Vector512.Store(Fma(x1, va, Vector512.Load(row1) * vb), row1);
    }
}
