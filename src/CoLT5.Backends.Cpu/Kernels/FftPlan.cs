// Complex forward DFTs in float64 for any length: an iterative radix-2 transform for powers of two and Bluestein's
// chirp-z algorithm (the DFT as a circular convolution, done with a power-of-two transform) for every other length.
// A plan holds the twiddles, the bit-reversal permutation and, for Bluestein, the chirp and its transformed filter;
// plans are built once per length and cached. Oracle: a naive float64 DFT (tests/CoLT5.Tests/Kernels/FftTests.cs).
using System;
using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.Intrinsics;

namespace CoLT5.Backends.Cpu.Kernels;

/// <summary>
/// The forward DFT X_k = Σ_j x_j·e^(−2πi·jk/n) of one length n, in place on split real / imaginary float64 arrays.
/// Thread-safe: a plan is immutable, and callers pass their own scratch.
/// </summary>
internal sealed unsafe class FftPlan
{
    private static readonly ConcurrentDictionary<int, FftPlan> Plans = new();

    // Powers of two: the bit-reversal partner of each index, and per stage (half-length h = 1, 2, 4, …, n/2) the
    // twiddles e^(−πi·j/h), j < h, stored contiguously at [h − 1, 2h − 1).
    private readonly int[]? bitReverse;
    private readonly double[]? twiddleRe, twiddleIm;

    // Bluestein: the power-of-two plan of length M ≥ 2n − 1, the chirp w_j = e^(−πi·j²/n) (j < n), and the filter:
    // the M-point DFT of b (b_0 = 1, b_j = b_(M−j) = conj(w_j) for 0 < j < n, 0 elsewhere), divided by M.
    private readonly FftPlan? inner;
    private readonly double[]? chirpRe, chirpIm, filterRe, filterIm;

    private FftPlan(int n)
    {
        Length = n;
        if (BitOperations.IsPow2(n))
        {
            bitReverse = BitReversal(n);
            (twiddleRe, twiddleIm) = StageTwiddles(n);
            return;
        }
        var m = (int)BitOperations.RoundUpToPowerOf2((uint)(2 * n - 1));
        inner = Get(m);
        ScratchLength = m;
        chirpRe = new double[n];
        chirpIm = new double[n];
        for (var j = 0; j < n; j++)
        {
            // j² mod 2n keeps the angle π·j²/n exact in float64 (e^(−πi·j²/n) has period 2n in j²)
            var angle = Math.PI * ((long)j * j % (2L * n)) / n;
            chirpRe[j] = Math.Cos(angle);
            chirpIm[j] = -Math.Sin(angle);
        }
        filterRe = new double[m];
        filterIm = new double[m];
        filterRe[0] = 1;
        for (var j = 1; j < n; j++)
        {
            filterRe[j] = filterRe[m - j] = chirpRe[j];
            filterIm[j] = filterIm[m - j] = -chirpIm[j];
        }
        fixed (double* fr = filterRe, fi = filterIm)
        {
            inner.Forward(fr, fi, null, null);
            for (var k = 0; k < m; k++)
            {
                fr[k] /= m;
                fi[k] /= m;
            }
        }
    }

    /// <summary>The transform length n.</summary>
    public int Length { get; }

    /// <summary>Doubles of scratch that <see cref="Forward"/> needs in each of its two scratch arrays (0 for powers of
    /// two, the Bluestein length M otherwise).</summary>
    public int ScratchLength { get; }

    /// <summary>The cached plan for length <paramref name="n"/> (built on first use).</summary>
    public static FftPlan Get(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        return Plans.GetOrAdd(n, static length => new FftPlan(length));
    }

    /// <summary>
    /// Replaces (re, im)[0, n) by its DFT. <paramref name="scratchRe"/> and <paramref name="scratchIm"/> hold at
    /// least <see cref="ScratchLength"/> doubles each (unused, and may be null, for powers of two).
    /// </summary>
    public void Forward(double* re, double* im, double* scratchRe, double* scratchIm)
    {
        if (inner is null)
            Radix2(re, im);
        else
            Bluestein(re, im, scratchRe, scratchIm);
    }

    // X_k = w_k · Σ_j (x_j w_j)·conj(w_(k−j)): multiply by the chirp, convolve with conj(chirp) through M-point
    // transforms (the inverse as conj ∘ DFT ∘ conj, its 1/M folded into the filter), multiply by the chirp again.
    private void Bluestein(double* re, double* im, double* sr, double* si)
    {
        int n = Length, m = ScratchLength;
        fixed (double* wr = chirpRe, wi = chirpIm, fr = filterRe, fi = filterIm)
        {
            for (var j = 0; j < n; j++)
            {
                sr[j] = re[j] * wr[j] - im[j] * wi[j];
                si[j] = re[j] * wi[j] + im[j] * wr[j];
            }
            new Span<double>(sr + n, m - n).Clear();
            new Span<double>(si + n, m - n).Clear();
            inner!.Radix2(sr, si);
            for (var k = 0; k < m; k++)
            {
                var pr = sr[k] * fr[k] - si[k] * fi[k];
                var pi = sr[k] * fi[k] + si[k] * fr[k];
                sr[k] = pr;
                si[k] = -pi;                                  // conj, for the inverse
            }
            inner.Radix2(sr, si);
            for (var k = 0; k < n; k++)
            {
                double cr = sr[k], ci = -si[k];               // conj again: the circular convolution at k
                re[k] = cr * wr[k] - ci * wi[k];
                im[k] = cr * wi[k] + ci * wr[k];
            }
        }
    }

    // Iterative decimation in time: bit-reversed order, then log2(n) stages of butterflies
    // (a, b) → (a + w·b, a − w·b), vectorised over the butterflies of a block when its half-length allows.
    private void Radix2(double* re, double* im)
    {
        var n = Length;
        var rev = bitReverse!;
        for (var i = 0; i < n; i++)
        {
            var j = rev[i];
            if (i < j)
            {
                (re[i], re[j]) = (re[j], re[i]);
                (im[i], im[j]) = (im[j], im[i]);
            }
        }
        for (var s = 0; s + 1 < n; s += 2)                     // h = 1: w = 1
        {
            double ar = re[s], ai = im[s], br = re[s + 1], bi = im[s + 1];
            re[s] = ar + br;
            im[s] = ai + bi;
            re[s + 1] = ar - br;
            im[s + 1] = ai - bi;
        }
        fixed (double* twr = twiddleRe, twi = twiddleIm)
        {
            for (var h = 2; h < n; h <<= 1)
            {
                double* wr = twr + h - 1, wi = twi + h - 1;
                for (var start = 0; start < n; start += 2 * h)
                    Butterflies(re + start, im + start, wr, wi, h);
            }
        }
    }

    // One block: a = (re, im)[0, h), b = (re, im)[h, 2h), twiddles w[0, h).
    private static void Butterflies(double* ar, double* ai, double* wr, double* wi, int h)
    {
        double* br = ar + h, bi = ai + h;
        var j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j + 8 <= h; j += 8)
            {
                Vector512<double> xr = Vector512.Load(br + j), xi = Vector512.Load(bi + j);
                Vector512<double> cr = Vector512.Load(wr + j), ci = Vector512.Load(wi + j);
                var tr = xr * cr - xi * ci;
                var ti = xr * ci + xi * cr;
                Vector512<double> ur = Vector512.Load(ar + j), ui = Vector512.Load(ai + j);
                (ur + tr).Store(ar + j);
                (ui + ti).Store(ai + j);
                (ur - tr).Store(br + j);
                (ui - ti).Store(bi + j);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 4 <= h; j += 4)
            {
                Vector256<double> xr = Vector256.Load(br + j), xi = Vector256.Load(bi + j);
                Vector256<double> cr = Vector256.Load(wr + j), ci = Vector256.Load(wi + j);
                var tr = xr * cr - xi * ci;
                var ti = xr * ci + xi * cr;
                Vector256<double> ur = Vector256.Load(ar + j), ui = Vector256.Load(ai + j);
                (ur + tr).Store(ar + j);
                (ui + ti).Store(ai + j);
                (ur - tr).Store(br + j);
                (ui - ti).Store(bi + j);
            }
        }
        for (; j < h; j++)
        {
            double xr = br[j], xi = bi[j], cr = wr[j], ci = wi[j];
            double tr = xr * cr - xi * ci, ti = xr * ci + xi * cr;
            double ur = ar[j], ui = ai[j];
            ar[j] = ur + tr;
            ai[j] = ui + ti;
            br[j] = ur - tr;
            bi[j] = ui - ti;
        }
    }

    private static int[] BitReversal(int n)
    {
        var bits = BitOperations.Log2((uint)n);
        var rev = new int[n];
        for (var i = 0; i < n; i++)
            rev[i] = bits == 0 ? 0 : (int)(ReverseBits((uint)i) >> (32 - bits));
        return rev;
    }

    private static uint ReverseBits(uint v)
    {
        v = ((v >> 1) & 0x55555555u) | ((v & 0x55555555u) << 1);
        v = ((v >> 2) & 0x33333333u) | ((v & 0x33333333u) << 2);
        v = ((v >> 4) & 0x0F0F0F0Fu) | ((v & 0x0F0F0F0Fu) << 4);
        v = ((v >> 8) & 0x00FF00FFu) | ((v & 0x00FF00FFu) << 8);
        return (v >> 16) | (v << 16);
    }

    // Stage twiddles e^(−πi·j/h) for h = 1, 2, …, n/2 at [h − 1, 2h − 1), each computed directly (no recurrence, so
    // every twiddle is correctly rounded up to the sine and cosine's own error).
    private static (double[] Re, double[] Im) StageTwiddles(int n)
    {
        var re = new double[Math.Max(1, n - 1)];
        var im = new double[Math.Max(1, n - 1)];
        for (var h = 1; h < n; h <<= 1)
        {
            for (var j = 0; j < h; j++)
            {
                var angle = Math.PI * j / h;
                re[h - 1 + j] = Math.Cos(angle);
                im[h - 1 + j] = -Math.Sin(angle);
            }
        }
        return (re, im);
    }
}
