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
// Every row and column is independent, so both steps run in parallel over tiles of 16 of them (and over the batch);
// the tiles keep the transposing writes of T and y in runs of consecutive addresses. Each range rents its FFT
// scratch once from the host pool. The whole input is read (step 1) before any output is written (step 2), so y may
// alias x.
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

    /// <summary>Rows (step 1) and columns (step 2) handled together, so that the transposing writes of T and y move
    /// runs of this many values instead of single elements.</summary>
    private const int Tile = 16;

    // Step 1: every pair of rows (b, r), (b, r + 1) through one complex FFT of length d, split into the two rows'
    // transforms, columns k < K stored at T[b][k][r]. A work item is a tile of up to 16 rows of one batch row: their
    // kept columns are staged row by row, then written to T as runs of 16 positions per column.
    private static void HiddenAxis<T>(T* x, double* tRe, double* tIm, int batch, int n, int d, int kept)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var plan = FftPlan.Get(d);
        var tiles = (n + Tile - 1) / Tile;
        long cost = 5L * Tile * d * Math.Max(1, BitOperations.Log2((uint)Math.Max(plan.ScratchLength, d)));
        CpuParallel.For((long)batch * tiles, cost, (start, end) =>
        {
            var scratch = 2L * d + 2L * plan.ScratchLength + 2L * Tile * kept;
            var block = HostMemoryPool.Shared.Rent(scratch * sizeof(double), out var capacity);
            try
            {
                var zr = (double*)block;
                var zi = zr + d;
                var sr = zi + d;
                var si = sr + plan.ScratchLength;
                var stageRe = si + plan.ScratchLength;                     // (Tile, K): row j of the tile
                var stageIm = stageRe + (long)Tile * kept;
                for (var item = start; item < end; item++)
                {
                    var b = (int)(item / tiles);
                    var r0 = (int)(item % tiles) * Tile;
                    var rows = Math.Min(Tile, n - r0);
                    for (var j = 0; j < rows; j += 2)
                    {
                        var second = j + 1 < rows;
                        T* row0 = x + ((long)b * n + r0 + j) * d, row1 = row0 + d;
                        for (var c = 0; c < d; c++)
                        {
                            zr[c] = double.CreateTruncating(row0[c]);
                            zi[c] = second ? double.CreateTruncating(row1[c]) : 0;
                        }
                        plan.Forward(zr, zi, sr, si);
                        double* aRe = stageRe + (long)j * kept, aIm = stageIm + (long)j * kept;
                        double* bRe = aRe + kept, bIm = aIm + kept;
                        for (var k = 0; k < kept; k++)
                        {
                            var m = k == 0 ? 0 : d - k;
                            double pr = zr[k], pi = zi[k], qr = zr[m], qi = zi[m];
                            aRe[k] = 0.5 * (pr + qr);                           // (Z[k] + conj Z[m]) / 2
                            aIm[k] = 0.5 * (pi - qi);
                            if (second)
                            {
                                bRe[k] = 0.5 * (pi + qi);                       // (Z[k] − conj Z[m]) / (2i)
                                bIm[k] = 0.5 * (qr - pr);
                            }
                        }
                    }
                    var column = (long)b * kept * n + r0;
                    for (var k = 0; k < kept; k++)
                    {
                        double* outRe = tRe + column + (long)k * n, outIm = tIm + column + (long)k * n;
                        for (var j = 0; j < rows; j++)
                        {
                            outRe[j] = stageRe[(long)j * kept + k];
                            outIm[j] = stageIm[(long)j * kept + k];
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
    // mirrored in n, y[b][:, d − k] for the columns above d/2 (k in [1, d − K]). A work item is a tile of up to 16
    // columns, written to y as runs of consecutive columns per row.
    private static void SequenceAxis<T>(double* tRe, double* tIm, T* y, int batch, int n, int d, int kept,
        double scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var plan = FftPlan.Get(n);
        var tiles = (kept + Tile - 1) / Tile;
        var lastMirrored = d - kept;                                      // mirrored columns k: 1 ≤ k ≤ d − K
        long cost = 5L * Tile * n * Math.Max(1, BitOperations.Log2((uint)Math.Max(plan.ScratchLength, n)));
        CpuParallel.For((long)batch * tiles, cost, (start, end) =>
        {
            var block = HostMemoryPool.Shared.Rent(Math.Max(1, 2L * plan.ScratchLength) * sizeof(double),
                out var capacity);
            try
            {
                var sr = (double*)block;
                var si = sr + plan.ScratchLength;
                for (var item = start; item < end; item++)
                {
                    var b = (int)(item / tiles);
                    var k0 = (int)(item % tiles) * Tile;
                    var k1 = Math.Min(kept, k0 + Tile);
                    var columns = tRe + ((long)b * kept + k0) * n;            // column k at columns + (k − k0)·N
                    for (var k = k0; k < k1; k++)
                        plan.Forward(tRe + ((long)b * kept + k) * n, tIm + ((long)b * kept + k) * n, sr, si);
                    var yb = y + (long)b * n * d;
                    for (var i = 0; i < n; i++)
                    {
                        var row = yb + (long)i * d;
                        for (var k = k0; k < k1; k++)
                            row[k] = T.CreateTruncating(scale * columns[(long)(k - k0) * n + i]);
                    }
                    int m0 = Math.Max(k0, 1), m1 = Math.Min(k1, lastMirrored + 1);
                    if (m0 >= m1)
                        continue;
                    for (var i = 0; i < n; i++)
                    {
                        var row = yb + (long)(i == 0 ? 0 : n - i) * d;
                        for (var k = m0; k < m1; k++)
                            row[d - k] = T.CreateTruncating(scale * columns[(long)(k - k0) * n + i]);
                    }
                }
            }
            finally
            {
                HostMemoryPool.Shared.Return(block, capacity);
            }
        });
    }
}
