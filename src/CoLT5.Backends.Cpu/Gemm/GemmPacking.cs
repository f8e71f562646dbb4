// Packs strided blocks of A and B into the contiguous micro-panel layout the micro-kernels read, zero-padding
// partial panels; unit-stride and transposed sources take vectorised copy / 4×4 transpose paths.
using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CoLT5.Backends.Cpu.Gemm;

/// <summary>Packing of A into MR-row micro-panels and of B into NR-column micro-panels.</summary>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// Packs A[0..mc, 0..kc) (element (i,p) at a[i·rs + p·cs]) as ⌈mc/MR⌉ panels, each kc steps of MR values.
    /// </summary>
    /// <param name="mc">Rows to pack.</param>
    /// <param name="kc">Depth to pack.</param>
    /// <param name="a">Top-left source element.</param>
    /// <param name="rs">Source row stride.</param>
    /// <param name="cs">Source column stride.</param>
    /// <param name="dst">Destination (⌈mc/MR⌉·MR·kc elements).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA<T>(int mc, int kc, T* a, long rs, long cs, T* dst)
        where T : unmanaged
    {
        Pack(mc, GemmConfig.Mr<T>(), kc, a, rs, cs, dst);
    }

    /// <summary>
    /// Packs B[0..kc, 0..nc) (element (p,j) at b[p·rs + j·cs]) as ⌈nc/NR⌉ panels, each kc steps of NR values.
    /// </summary>
    /// <param name="kc">Depth to pack.</param>
    /// <param name="nc">Columns to pack.</param>
    /// <param name="b">Top-left source element.</param>
    /// <param name="rs">Source row stride.</param>
    /// <param name="cs">Source column stride.</param>
    /// <param name="dst">Destination (⌈nc/NR⌉·NR·kc elements).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB<T>(int kc, int nc, T* b, long rs, long cs, T* dst)
        where T : unmanaged
    {
        // A B panel is the transpose problem of an A panel: its "lines" are B's columns.
        Pack(nc, GemmConfig.Nr<T>(), kc, b, cs, rs, dst);
    }

    /// <summary>
    /// Packs ⌈lines/width⌉ panels: panel q gets dst[q·width·kc + p·width + r] = src[(q·width + r)·lineStride +
    /// p·depthStride], zero-padded past the last line. <paramref name="width"/> is MR or NR (a JIT constant here).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pack<T>(int lines, int width, int kc, T* src, long lineStride, long depthStride, T* dst)
        where T : unmanaged
    {
        int full = lines / width;
        long panelSize = (long)width * kc;
        if (lineStride == 1)
        {
            // Lines are contiguous: copy each depth step of a group of panels (≈ 256 contiguous source bytes, so
            // whole cache lines are read once) before moving on; a small group keeps the destination streams few,
            // as panels kc·width apart alias in the L1 sets.
            uint bytes = (uint)(width * sizeof(T));
            int group = Math.Max(1, 256 / (width * sizeof(T)));
            for (int q0 = 0; q0 < full; q0 += group)
            {
                int q1 = Math.Min(full, q0 + group);
                for (int p = 0; p < kc; p++)
                {
                    T* s = src + (p * depthStride) + ((long)q0 * width);
                    T* d = dst + (q0 * panelSize) + ((long)p * width);
                    for (int q = q0; q < q1; q++)
                    {
                        Unsafe.CopyBlockUnaligned(d, s, bytes);
                        s += width;
                        d += panelSize;
                    }
                }
            }
        }
        else
        {
            for (int q = 0; q < full; q++)
            {
                PackPanel(width, width, kc, src + ((long)q * width * lineStride), lineStride, depthStride,
                    dst + (q * panelSize));
            }
        }

        if (lines > full * width)
        {
            PackPanel(lines - (full * width), width, kc, src + ((long)full * width * lineStride), lineStride,
                depthStride, dst + (full * panelSize));
        }
    }

    /// <summary>
    /// One panel: dst[p·width + r] = src[r·lineStride + p·depthStride] for r &lt; lines, p &lt; kc, and zero for
    /// lines ≤ r &lt; width (4 × 4 register transposes when the lines are contiguous along depth).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PackPanel<T>(int lines, int width, int kc, T* src, long lineStride, long depthStride, T* dst)
        where T : unmanaged
    {
        int r = 0;
        if (depthStride == 1 && CanTranspose4<T>())
        {
            // Each line is contiguous along depth: transpose 4 lines × 4 depth steps at a time.
            int kc4 = kc & ~3;
            for (; r + 4 <= lines; r += 4)
            {
                T* s = src + (r * lineStride);
                T* d = dst + r;
                for (int p = 0; p < kc4; p += 4)
                {
                    Transpose4(s + p, lineStride, d + ((long)p * width), width);
                }

                for (int p = kc4; p < kc; p++)
                {
                    for (int q = 0; q < 4; q++)
                    {
                        d[((long)p * width) + q] = s[(q * lineStride) + p];
                    }
                }
            }
        }

        for (; r < lines; r++)
        {
            T* s = src + (r * lineStride);
            T* d = dst + r;
            for (int p = 0; p < kc; p++)
            {
                *d = *s;
                s += depthStride;
                d += width;
            }
        }

        if (lines < width)
        {
            for (int p = 0; p < kc; p++)
            {
                for (int q = lines; q < width; q++)
                {
                    dst[((long)p * width) + q] = default;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool CanTranspose4<T>()
        where T : unmanaged
        => (typeof(T) == typeof(float) && Sse.IsSupported) || (typeof(T) == typeof(double) && Avx.IsSupported);

    /// <summary>dst[q·dstStride + r] = src[r·srcStride + q] for a 4 × 4 block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4<T>(T* src, long srcStride, T* dst, long dstStride)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            float* s = (float*)src;
            float* d = (float*)dst;
            Vector128<float> r0 = Sse.LoadVector128(s);
            Vector128<float> r1 = Sse.LoadVector128(s + srcStride);
            Vector128<float> r2 = Sse.LoadVector128(s + (2 * srcStride));
            Vector128<float> r3 = Sse.LoadVector128(s + (3 * srcStride));
            Vector128<float> t0 = Sse.UnpackLow(r0, r1);
            Vector128<float> t1 = Sse.UnpackHigh(r0, r1);
            Vector128<float> t2 = Sse.UnpackLow(r2, r3);
            Vector128<float> t3 = Sse.UnpackHigh(r2, r3);
            Sse.Store(d, Sse.MoveLowToHigh(t0, t2));
            Sse.Store(d + dstStride, Sse.MoveHighToLow(t2, t0));
            Sse.Store(d + (2 * dstStride), Sse.MoveLowToHigh(t1, t3));
            Sse.Store(d + (3 * dstStride), Sse.MoveHighToLow(t3, t1));
        }
        else
        {
            double* s = (double*)src;
            double* d = (double*)dst;
            Vector256<double> r0 = Avx.LoadVector256(s);
            Vector256<double> r1 = Avx.LoadVector256(s + srcStride);
            Vector256<double> r2 = Avx.LoadVector256(s + (2 * srcStride));
            Vector256<double> r3 = Avx.LoadVector256(s + (3 * srcStride));
            Vector256<double> t0 = Avx.UnpackLow(r0, r1);
            Vector256<double> t1 = Avx.UnpackHigh(r0, r1);
            Vector256<double> t2 = Avx.UnpackLow(r2, r3);
            Vector256<double> t3 = Avx.UnpackHigh(r2, r3);
            Avx.Store(d, Avx.Permute2x128(t0, t2, 0x20));
            Avx.Store(d + dstStride, Avx.Permute2x128(t1, t3, 0x20));
            Avx.Store(d + (2 * dstStride), Avx.Permute2x128(t0, t2, 0x31));
            Avx.Store(d + (3 * dstStride), Avx.Permute2x128(t1, t3, 0x31));
        }
    }
}
