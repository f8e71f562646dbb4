// TEMPORARY stand-in until the packed GEMM lands (same signature). Naive loops.
using System;
using System.Numerics;

namespace CoLT5.Backends.Cpu.Gemm;

internal static unsafe class Gemm
{
    public static void MultiplyBatched<T>(int batch, int m, int n, int k, T alpha,
        T* a, ReadOnlySpan<long> aOffsets, long aRowStride, long aColStride,
        T* b, ReadOnlySpan<long> bOffsets, long bRowStride, long bColStride,
        T beta, T* c, ReadOnlySpan<long> cOffsets, long ldc, int maxThreads) where T : unmanaged, IFloatingPointIeee754<T>
    {
        _ = maxThreads;
        for (var q = 0; q < batch; q++)
        {
            T* pa = a + aOffsets[q], pb = b + bOffsets[q], pc = c + cOffsets[q];
            for (var i = 0; i < m; i++)
            {
                for (var j = 0; j < n; j++)
                {
                    var s = T.Zero;
                    for (var p = 0; p < k; p++)
                        s += pa[i * aRowStride + p * aColStride] * pb[p * bRowStride + j * bColStride];
                    pc[i * ldc + j] = beta == T.Zero ? alpha * s : alpha * s + beta * pc[i * ldc + j];
                }
            }
        }
    }
}
