// Measures the machine's FMA peak from managed code: independent Vector512 (or Vector256) FMA chains per thread,
// counted as 2 FLOPs per lane, the yardstick for "% of peak".
using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Threading.Tasks;

namespace CoLT5.Perf.Cases;

public static class FmaPeak
{
    /// <summary>GFLOP/s of <paramref name="threads"/> threads each running 12 independent FMA chains.</summary>
    public static double Measure(int threads)
    {
        const long iterations = 40_000_000;
        Run(1000);                                             // JIT + warm-up
        var best = 0.0;
        for (var round = 0; round < 3; round++)
        {
            var sw = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ => Run(iterations));
            var seconds = sw.Elapsed.TotalSeconds;
            var lanes = Vector512.IsHardwareAccelerated ? 16 : Vector256.IsHardwareAccelerated ? 8 : 1;
            best = Math.Max(best, threads * iterations * 12.0 * lanes * 2 / seconds / 1e9);
        }
        return best;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Run(long iterations)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            var m = Vector512.Create(0.999999f);
            var a = Vector512.Create(1e-7f);
            Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0,
                c8 = c0, c9 = c0, c10 = c0, c11 = c0;
            for (long i = 0; i < iterations; i++)
            {
                c0 = Vector512.FusedMultiplyAdd(c0, m, a); c1 = Vector512.FusedMultiplyAdd(c1, m, a);
                c2 = Vector512.FusedMultiplyAdd(c2, m, a); c3 = Vector512.FusedMultiplyAdd(c3, m, a);
                c4 = Vector512.FusedMultiplyAdd(c4, m, a); c5 = Vector512.FusedMultiplyAdd(c5, m, a);
                c6 = Vector512.FusedMultiplyAdd(c6, m, a); c7 = Vector512.FusedMultiplyAdd(c7, m, a);
                c8 = Vector512.FusedMultiplyAdd(c8, m, a); c9 = Vector512.FusedMultiplyAdd(c9, m, a);
                c10 = Vector512.FusedMultiplyAdd(c10, m, a); c11 = Vector512.FusedMultiplyAdd(c11, m, a);
            }
            return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
        }
        var n = Vector256.Create(0.999999f);
        var b = Vector256.Create(1e-7f);
        Vector256<float> d0 = Vector256.Create(1f), d1 = d0, d2 = d0, d3 = d0, d4 = d0, d5 = d0, d6 = d0, d7 = d0,
            d8 = d0, d9 = d0, d10 = d0, d11 = d0;
        for (long i = 0; i < iterations; i++)
        {
            d0 = Vector256.FusedMultiplyAdd(d0, n, b); d1 = Vector256.FusedMultiplyAdd(d1, n, b);
            d2 = Vector256.FusedMultiplyAdd(d2, n, b); d3 = Vector256.FusedMultiplyAdd(d3, n, b);
            d4 = Vector256.FusedMultiplyAdd(d4, n, b); d5 = Vector256.FusedMultiplyAdd(d5, n, b);
            d6 = Vector256.FusedMultiplyAdd(d6, n, b); d7 = Vector256.FusedMultiplyAdd(d7, n, b);
            d8 = Vector256.FusedMultiplyAdd(d8, n, b); d9 = Vector256.FusedMultiplyAdd(d9, n, b);
            d10 = Vector256.FusedMultiplyAdd(d10, n, b); d11 = Vector256.FusedMultiplyAdd(d11, n, b);
        }
        return Vector256.Sum(d0 + d1 + d2 + d3 + d4 + d5 + d6 + d7 + d8 + d9 + d10 + d11);
    }
}
