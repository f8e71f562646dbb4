// FNet's Fourier mixing on the CPU: y[b] = scale · Re(F_N · x[b] · F_d) for real x (B, N, d), with float64 FFTs.
// Oracle: ReferenceBackend.TryFourierMix (a direct float64 DFT). Perf case: perf/CoLT5.Perf/Cases/FourierCase.cs.
//
// Real input halves the work twice over (spec 1.4):
//  1. Hidden axis, two rows per complex FFT: z = x_r + i·x_(r+1) (length d), Z = F_d z, then with m = (d − k) mod d
//     X_r[k] = (Z[k] + conj Z[m]) / 2 and X_(r+1)[k] = (Z[k] − conj Z[m]) / (2i). Only the K = ⌊d/2⌋ + 1 columns
//     k ≤ d/2 are kept: a real row's transform is Hermitian, X[d − k] = conj X[k]. They go to a float64 buffer laid
//     out column by column, T[b][k][n], so that step 2 reads each column contiguously.
//  2. Sequence axis, one complex FFT of length N per kept column: W[:, k] = F_N T[:, k], whose real part is
//     y[:, k]. The other columns follow from the Hermitian symmetry of the 2D transform of a real array:
//     W[n, d − k] = conj W[(−n) mod N, k], so y[(−n) mod N, d − k] = Re W[n, k] for 0 < k and d − k > d/2.
// Every row and column is independent, so both steps run in parallel over them (and over the batch); each range
// rents its FFT scratch once from the host pool. A row is read in full before any output of it is written, so y
// may alias x.
using System;
using System.Numerics;
using CoLT5.Backends.Cpu.Memory;
using CoLT5.Backends.Cpu.Threading;

namespace CoLT5.Backends.Cpu.Kernels;

/// <summary>The real part of the 2D DFT over the last two axes of a contiguous (B, N, d) tensor, scaled.</summary>
internal static unsafe class FourierMixKernel
{
    /// <summary>y (B, N, d) = scale · Re(F_N x F_d) per batch row; x, y contiguous (y may alias x).</summary>
    public static void Forward<T>(T* x, T* y, int batch, int n, int d, double scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var kept = d / 2 + 1;
        long columnLength = (long)batch * kept * n;                    // T[b][k][n], split real / imaginary
        var block = HostMemoryPool.Shared.Rent(2 * columnLength * sizeof(double), out var capacity);
        try
        {
            var tRe = (double*)block;
            var tIm = tRe + columnLength;
            HiddenAxis(x, tRe, tIm, batch, n, d, kept);
            SequenceAxis(tRe, tIm, y, batch, n, d, kept, scale);
        }
        finally
        {
            HostMemoryPool.Shared.Return(block, capacity);
        }
    }

    // Step 1: every pair of rows (b, r), (b, r + 1) through one complex FFT of length d, split into the two rows'
    // transforms, columns k < K stored at T[b][k][r].
    private static void HiddenAxis<T>(T* x, double* tRe, double* tIm, int batch, int n, int d, int kept)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var plan = FftPlan.Get(d);
        var pairs = (n + 1) / 2;
        long cost = 5L * d * Math.Max(1, BitOperations.Log2((uint)Math.Max(plan.ScratchLength, d)));
        CpuParallel.For((long)batch * pairs, cost, (start, end) =>
        {
            var scratch = 2L * d + 2L * plan.ScratchLength;
            var block = HostMemoryPool.Shared.Rent(scratch * sizeof(double), out var capacity);
            try
            {
                var zr = (double*)block;
                var zi = zr + d;
                var sr = zi + d;
                var si = sr + plan.ScratchLength;
                for (var item = start; item < end; item++)
                {
                    var b = (int)(item / pairs);
                    var r = (int)(item % pairs) * 2;
                    var second = r + 1 < n;
                    T* row0 = x + ((long)b * n + r) * d, row1 = row0 + d;
                    for (var c = 0; c < d; c++)
                    {
                        zr[c] = double.CreateTruncating(row0[c]);
                        zi[c] = second ? double.CreateTruncating(row1[c]) : 0;
                    }
                    plan.Forward(zr, zi, sr, si);
                    var column = (long)b * kept * n;
                    for (var k = 0; k < kept; k++)
                    {
                        var m = k == 0 ? 0 : d - k;
                        double pr = zr[k], pi = zi[k], qr = zr[m], qi = zi[m];
                        var at = column + (long)k * n + r;
                        tRe[at] = 0.5 * (pr + qr);                     // (Z[k] + conj Z[m]) / 2
                        tIm[at] = 0.5 * (pi - qi);
                        if (second)
                        {
                            tRe[at + 1] = 0.5 * (pi + qi);             // (Z[k] − conj Z[m]) / (2i)
                            tIm[at + 1] = 0.5 * (qr - pr);
                        }
                    }
                }
            }
            finally
            {
                HostMemoryPool.Shared.Return(block, capacity);
            }
        });
    }

    // Step 2: each kept column (b, k) through a complex FFT of length N in place; its real part is y[b][:, k] and,
    // mirrored in n, y[b][:, d − k] for the columns above d/2.
    private static void SequenceAxis<T>(double* tRe, double* tIm, T* y, int batch, int n, int d, int kept,
        double scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var plan = FftPlan.Get(n);
        long cost = 5L * n * Math.Max(1, BitOperations.Log2((uint)Math.Max(plan.ScratchLength, n)));
        CpuParallel.For((long)batch * kept, cost, (start, end) =>
        {
            var block = HostMemoryPool.Shared.Rent(Math.Max(1, 2L * plan.ScratchLength) * sizeof(double),
                out var capacity);
            try
            {
                var sr = (double*)block;
                var si = sr + plan.ScratchLength;
                for (var item = start; item < end; item++)
                {
                    var b = (int)(item / kept);
                    var k = (int)(item % kept);
                    var at = ((long)b * kept + k) * n;
                    double* wr = tRe + at, wi = tIm + at;
                    plan.Forward(wr, wi, sr, si);
                    var yb = y + (long)b * n * d;
                    for (var i = 0; i < n; i++)
                        yb[(long)i * d + k] = T.CreateTruncating(scale * wr[i]);
                    if (k == 0 || d - k < kept)
                        continue;
                    var mirror = d - k;
                    yb[mirror] = T.CreateTruncating(scale * wr[0]);
                    for (var i = 1; i < n; i++)
                        yb[(long)(n - i) * d + mirror] = T.CreateTruncating(scale * wr[i]);
                }
            }
            finally
            {
                HostMemoryPool.Shared.Return(block, capacity);
            }
        });
    }
}
