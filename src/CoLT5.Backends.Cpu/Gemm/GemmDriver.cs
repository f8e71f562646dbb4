// The single-threaded Goto/BLIS blocked loop nest over one rectangular block of C: NC columns → KC depth (pack B)
// → MC rows (pack A) → NR micro-panels → MR micro-panels → micro-kernel, with a scratch tile for partial edges.
using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CoLT5.Backends.Cpu.Gemm;

/// <summary>Blocked, packed GEMM over a sub-block of C on the calling thread.</summary>
internal static unsafe class GemmDriver
{
    /// <summary>Computes rows [m0, m1) × columns [n0, n1) of C = alpha·A·B + beta·C (k ≥ 1).</summary>
    /// <param name="g">The whole problem.</param>
    /// <param name="m0">First row of the block.</param>
    /// <param name="m1">End row of the block.</param>
    /// <param name="n0">First column of the block.</param>
    /// <param name="n1">End column of the block.</param>
    /// <param name="ws">Packing buffers owned by this thread for the call.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T>(in GemmArgs<T> g, int m0, int m1, int n0, int n1, GemmWorkspace ws)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m1 <= m0 || n1 <= n0)
        {
            return;
        }

        Blocking<T>(m1 - m0, n1 - n0, g.K, out int mcMax, out int ncMax, out int kcMax);
        T* packedA = ws.PackedA<T>((long)mcMax * kcMax);
        T* packedB = ws.PackedB<T>((long)ncMax * kcMax);
        T* scratch = ws.Scratch<T>();
        for (int jc = n0; jc < n1; jc += ncMax)
        {
            int nc = Math.Min(ncMax, n1 - jc);
            for (int pc = 0; pc < g.K; pc += kcMax)
            {
                int kc = Math.Min(kcMax, g.K - pc);
                T beta = pc == 0 ? g.Beta : T.One;
                GemmPacking.PackB(kc, nc, g.B + (pc * g.BRowStride) + (jc * g.BColStride), g.BRowStride,
                    g.BColStride, packedB);
                for (int ic = m0; ic < m1; ic += mcMax)
                {
                    int mc = Math.Min(mcMax, m1 - ic);
                    GemmPacking.PackA(mc, kc, g.A + (ic * g.ARowStride) + (pc * g.AColStride), g.ARowStride,
                        g.AColStride, packedA);
                    Macro(mc, nc, kc, packedA, packedB, g.C + (ic * g.Ldc) + jc, g.Ldc, g.Alpha, beta, scratch);
                }
            }
        }
    }

    /// <summary>
    /// Cache blocks for an m × n × k block: each dimension is split into equal parts no larger than the configured
    /// block (k = 300 → 2 × 150, not 256 + 44), rounded up to whole register tiles.
    /// </summary>
    private static void Blocking<T>(int m, int n, int k, out int mcMax, out int ncMax, out int kcMax)
        where T : unmanaged
    {
        int kBlocks = Math.Max(1, CeilDiv(k, GemmConfig.Kc<T>()));
        kcMax = RoundUp(CeilDiv(k, kBlocks), 4);
        int mBlocks = Math.Max(1, CeilDiv(m, GemmConfig.Mc<T>()));
        mcMax = RoundUp(Math.Max(1, CeilDiv(m, mBlocks)), GemmConfig.Mr<T>());
        int nBlocks = Math.Max(1, CeilDiv(n, GemmConfig.Nc<T>()));
        ncMax = RoundUp(Math.Max(1, CeilDiv(n, nBlocks)), GemmConfig.Nr<T>());
    }

    /// <summary>Multiplies one packed A block by one packed B block into C, tile by tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Macro<T>(int mc, int nc, int kc, T* packedA, T* packedB, T* c, long ldc, T alpha, T beta,
        T* scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int mr = GemmConfig.Mr<T>();
        int nr = GemmConfig.Nr<T>();
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            T* bp = packedB + ((long)jr * kc);
            for (int ir = 0; ir < mc; ir += mr)
            {
                int rows = Math.Min(mr, mc - ir);
                T* ap = packedA + ((long)ir * kc);
                T* ct = c + (ir * ldc) + jr;
                if (rows == mr && cols == nr)
                {
                    Kernel(kc, ap, bp, ct, ldc, alpha, beta);
                }
                else
                {
                    Kernel(kc, ap, bp, scratch, nr, alpha, T.Zero);
                    MergeEdge(rows, cols, scratch, nr, ct, ldc, beta);
                }
            }
        }
    }

    /// <summary>The micro-kernel of the widest accelerated SIMD tier (the branches fold at JIT time).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel<T>(int kc, T* a, T* b, T* c, long ldc, T alpha, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Vector512.IsHardwareAccelerated)
        {
            MicroKernel512.Run(kc, a, b, c, ldc, alpha, beta);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            MicroKernel256.Run(kc, a, b, c, ldc, alpha, beta);
        }
        else
        {
            MicroKernelScalar.Run(kc, a, b, c, ldc, alpha, beta);
        }
    }

    /// <summary>C[rows×cols] = tile + beta·C, not reading C when beta is zero.</summary>
    private static void MergeEdge<T>(int rows, int cols, T* tile, int ldt, T* c, long ldc, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < rows; i++)
        {
            T* t = tile + ((long)i * ldt);
            T* d = c + (i * ldc);
            if (beta == T.Zero)
            {
                for (int j = 0; j < cols; j++)
                {
                    d[j] = t[j];
                }
            }
            else
            {
                for (int j = 0; j < cols; j++)
                {
                    d[j] = t[j] + (beta * d[j]);
                }
            }
        }
    }

    /// <summary>⌈x / y⌉ for positive y.</summary>
    internal static int CeilDiv(int x, int y) => (x + y - 1) / y;

    /// <summary>x rounded up to a multiple of y.</summary>
    internal static int RoundUp(int x, int y) => CeilDiv(x, y) * y;
}
