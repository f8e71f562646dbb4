// Correctness tests of the packed CPU GEMM against a naive float64 triple loop: shapes (1×N, N×1, primes, tile and
// block edges, large k), all four transposes, general strides, alpha/beta (beta = 0 never reads C), k = 0, batches.
using System;
using System.Runtime.InteropServices;
using System.Numerics;
using System.Threading.Tasks;
using CoLT5.Backends.Cpu.Gemm;
using Xunit;

namespace CoLT5.Tests.Kernels;

/// <summary>Checks <see cref="Gemm.Multiply{T}"/> and <see cref="Gemm.MultiplyBatched{T}"/> against a reference.</summary>
[Trait("Category", "Kernel")]
public sealed unsafe class GemmTests
{
    /// <summary>Value written into C's row padding; it must survive every call untouched.</summary>
    private const double Sentinel = 12345.0;

    /// <summary>How a test matrix is laid out in memory.</summary>
    public enum Layout
    {
        /// <summary>Rows contiguous, leading dimension padded (column stride 1).</summary>
        RowMajor,

        /// <summary>Columns contiguous, i.e. a row-major transpose (row stride 1).</summary>
        ColMajor,

        /// <summary>Neither stride is 1 (every other element of a padded row-major buffer).</summary>
        Strided,
    }

    /// <summary>(m, n, k) shapes: degenerate vectors, primes, tile (12×32 / 6×16 / 4×4) edges, several KC blocks.</summary>
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (1, 257, 33), (257, 1, 33), (1, 1, 1025), (7, 13, 17), (13, 7, 31), (17, 31, 7),
        (31, 33, 127), (33, 31, 5), (12, 32, 64), (24, 64, 257), (11, 31, 13), (25, 65, 2), (127, 257, 17),
        (1025, 3, 7), (3, 1025, 9), (100, 97, 300), (64, 48, 1025),
    ];

    /// <summary>Every transpose combination of A and B on odd shapes, float and double, 1 and 2 threads.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Multiply_AllShapesAndTransposes_MatchReference(int threads)
    {
        var rng = new Random(42 + threads);
        foreach ((int m, int n, int k) in Shapes)
        {
            foreach (Layout la in new[] { Layout.RowMajor, Layout.ColMajor })
            {
                foreach (Layout lb in new[] { Layout.RowMajor, Layout.ColMajor })
                {
                    Check<float>(rng, m, n, k, la, lb, 1.0, 0.0, cPad: 3, threads);
                    Check<double>(rng, m, n, k, la, lb, 1.0, 0.0, cPad: 0, threads);
                }
            }
        }
    }

    /// <summary>Strides that are not 1 in either direction, mixed with transposed and plain operands.</summary>
    [Theory]
    [InlineData(Layout.Strided, Layout.RowMajor)]
    [InlineData(Layout.RowMajor, Layout.Strided)]
    [InlineData(Layout.Strided, Layout.Strided)]
    [InlineData(Layout.ColMajor, Layout.Strided)]
    public void Multiply_GeneralStrides_MatchReference(Layout la, Layout lb)
    {
        var rng = new Random(7);
        foreach ((int m, int n, int k) in new[] { (1, 5, 3), (13, 33, 17), (40, 70, 129), (100, 97, 300) })
        {
            Check<float>(rng, m, n, k, la, lb, 0.75, 0.5, cPad: 5, threads: 2);
            Check<double>(rng, m, n, k, la, lb, -1.25, 1.0, cPad: 1, threads: 1);
        }
    }

    /// <summary>alpha/beta combinations; beta = 0 must ignore NaN in C, beta = 1 must accumulate.</summary>
    [Theory]
    [InlineData(1.0, 0.0)]
    [InlineData(1.0, 1.0)]
    [InlineData(0.5, -2.0)]
    [InlineData(-3.0, 0.0)]
    [InlineData(0.0, 0.5)]
    [InlineData(0.0, 0.0)]
    public void Multiply_AlphaBeta_MatchReference(double alpha, double beta)
    {
        var rng = new Random(3);
        foreach ((int m, int n, int k) in new[] { (1, 1, 1), (7, 13, 17), (31, 33, 127), (130, 70, 600) })
        {
            foreach (int threads in new[] { 1, 2 })
            {
                Check<float>(rng, m, n, k, Layout.RowMajor, Layout.ColMajor, alpha, beta, cPad: 2, threads);
                Check<double>(rng, m, n, k, Layout.ColMajor, Layout.RowMajor, alpha, beta, cPad: 2, threads);
            }
        }
    }

    /// <summary>k = 0 gives C = beta·C (zeros for beta = 0 even over NaN); m = 0 or n = 0 touches nothing.</summary>
    [Fact]
    public void Multiply_EmptyDimensions_ScaleOrNoOp()
    {
        var rng = new Random(5);
        foreach (double beta in new[] { 0.0, 1.0, -0.5 })
        {
            Check<float>(rng, 9, 11, 0, Layout.RowMajor, Layout.RowMajor, 1.0, beta, cPad: 2, threads: 2);
            Check<double>(rng, 9, 11, 0, Layout.ColMajor, Layout.RowMajor, 2.0, beta, cPad: 0, threads: 1);
        }

        Check<float>(rng, 0, 11, 5, Layout.RowMajor, Layout.RowMajor, 1.0, 0.0, cPad: 2, threads: 2);
        Check<float>(rng, 9, 0, 5, Layout.RowMajor, Layout.RowMajor, 1.0, 0.0, cPad: 2, threads: 2);
        Check<double>(rng, 0, 0, 0, Layout.RowMajor, Layout.RowMajor, 1.0, 0.0, cPad: 2, threads: 1);
    }

    /// <summary>Large k (many depth blocks, beta applied once) and m / n beyond one MC / NC cache block.</summary>
    [Fact]
    public void Multiply_BeyondCacheBlocks_MatchReference()
    {
        var rng = new Random(11);
        Check<float>(rng, 13, 35, 4099, Layout.RowMajor, Layout.RowMajor, 1.0, 1.0, cPad: 1, threads: 2);
        Check<double>(rng, 13, 19, 2051, Layout.ColMajor, Layout.ColMajor, 0.5, -1.0, cPad: 0, threads: 1);
        Check<float>(rng, 801, 37, 21, Layout.RowMajor, Layout.ColMajor, 1.0, 0.0, cPad: 0, threads: 2);
        Check<double>(rng, 5, 2101, 9, Layout.ColMajor, Layout.RowMajor, 1.0, 0.0, cPad: 4, threads: 2);
        Check<float>(rng, 3, 4133, 5, Layout.RowMajor, Layout.RowMajor, 1.0, 0.0, cPad: 0, threads: 1);
        Check<float>(rng, 300, 200, 150, Layout.RowMajor, Layout.RowMajor, 1.0, 0.0, cPad: 0, threads: 2);
    }

    /// <summary>Batches with broadcast A or B (repeated offsets), small (across-batch) and large (split) products.</summary>
    [Theory]
    [InlineData(1, 7, 13, 17, 5)]
    [InlineData(2, 7, 13, 17, 5)]
    [InlineData(2, 1, 33, 9, 3)]
    [InlineData(2, 150, 140, 130, 3)]
    [InlineData(2, 150, 140, 130, 2)]
    [InlineData(1, 40, 50, 60, 4)]
    public void MultiplyBatched_BroadcastOffsets_MatchReference(int threads, int m, int n, int k, int batch)
    {
        var rng = new Random(m + n + k + batch);
        CheckBatched<float>(rng, batch, m, n, k, broadcastA: true, 1.0, 0.0, threads);
        CheckBatched<float>(rng, batch, m, n, k, broadcastA: false, 0.5, 1.0, threads);
        CheckBatched<double>(rng, batch, m, n, k, broadcastA: true, -1.0, 0.25, threads);
    }

    /// <summary>
    /// Concurrent callers share one worker pool (a caller that finds it busy computes alone) and stay correct;
    /// maxThreads above the core count is capped.
    /// </summary>
    [Fact]
    public void Multiply_ConcurrentCallers_MatchReference()
    {
        Parallel.For(0, 4, i =>
        {
            var rng = new Random(100 + i);
            for (int r = 0; r < 3; r++)
            {
                Check<float>(rng, 200, 170, 130, Layout.RowMajor, Layout.RowMajor, 1.0, 0.0, cPad: 1, threads: 2);
                Check<double>(rng, 170, 200, 130, Layout.ColMajor, Layout.RowMajor, 1.0, 1.0, cPad: 0, threads: 8);
            }
        });
    }

    /// <summary>Element types other than float and double are rejected.</summary>
    [Fact]
    public void Multiply_UnsupportedType_Throws()
    {
        Half[] a = [Half.One];
        Assert.Throws<NotSupportedException>(() =>
        {
            fixed (Half* p = a)
            {
                Gemm.Multiply(1, 1, 1, Half.One, p, 1, 1, p, 1, 1, Half.Zero, p, 1, 1);
            }
        });
    }

    /// <summary>After a warm-up call, a call allocates nothing on the GC heap (workspaces are pooled).</summary>
    [Fact]
    public void Multiply_SteadyState_DoesNotAllocate()
    {
        const int size = 96;
        float[] a = new float[size * size];
        float[] c = new float[size * size];
        a.AsSpan().Fill(0.5f);
        fixed (float* pa = a, pc = c)
        {
            Gemm.Multiply(size, size, size, 1f, pa, size, 1, pa, size, 1, 0f, pc, size, 1);
            long before = GC.GetAllocatedBytesForCurrentThread();
            Gemm.Multiply(size, size, size, 1f, pa, size, 1, pa, size, 1, 0f, pc, size, 1);
            long after = GC.GetAllocatedBytesForCurrentThread();
            Assert.Equal(0, after - before);
            Assert.Equal(size * 0.25f, c[(size * size) - 1]);
        }
    }

    /// <summary>
    /// Thousands of back-to-back two-thread products, each into a NaN-poisoned C: a call must never return before
    /// every part of its product is written (a late completion signal from the previous call's worker once let it).
    /// </summary>
    [Fact]
    public void Multiply_BackToBackCalls_NeverReturnEarly()
    {
        const int size = 128, outputs = 8, rounds = 12000;
        var rng = new Random(7);
        float[] a = new float[size * size];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = (float)(rng.NextDouble() - 0.5);
        }

        float[] expected = new float[size * size];
        float[][] c = new float[outputs][];
        for (int j = 0; j < outputs; j++)
        {
            c[j] = new float[size * size];
        }

        fixed (float* pa = a, pe = expected)
        {
            Gemm.Multiply(size, size, size, 1f, pa, size, 1, pa, size, 1, 0f, pe, size, 1);
            for (int round = 0; round < rounds; round++)
            {
                foreach (float[] output in c)
                {
                    output.AsSpan().Fill(float.NaN);
                }

                for (int j = 0; j < outputs; j++)
                {
                    fixed (float* pc = c[j])
                    {
                        Gemm.Multiply(size, size, size, 1f, pa, size, 1, pa, size, 1, 0f, pc, size, 2);
                    }
                }

                for (int j = 0; j < outputs; j++)
                {
                    // bitwise: a NaN left in C (a part never written) must fail
                    ReadOnlySpan<int> got = MemoryMarshal.Cast<float, int>(c[j]);
                    ReadOnlySpan<int> want = MemoryMarshal.Cast<float, int>(expected);
                    if (!got.SequenceEqual(want))
                    {
                        int bad = got.CommonPrefixLength(want);
                        Assert.Fail($"round {round}, call {j}: C[{bad}] = {c[j][bad]} differs from the single-thread result");
                    }
                }
            }
        }
    }

    private static void Check<T>(Random rng, int m, int n, int k, Layout la, Layout lb, double alpha, double beta,
        int cPad, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Matrix<T> a = Matrix<T>.Random(rng, m, k, la);
        Matrix<T> b = Matrix<T>.Random(rng, k, n, lb);
        int ldc = n + cPad;
        T[] c = NewC<T>(rng, m, n, ldc, beta);
        double[] expected = Reference(m, n, k, alpha, a, 0, b, 0, beta, c, 0, ldc);
        fixed (T* pa = a.Data, pb = b.Data, pc = c)
        {
            Gemm.Multiply(m, n, k, T.CreateTruncating(alpha), pa, a.RowStride, a.ColStride, pb, b.RowStride,
                b.ColStride, T.CreateTruncating(beta), pc, ldc, threads);
        }

        string what = $"{typeof(T).Name} m={m} n={n} k={k} A={la} B={lb} alpha={alpha} beta={beta} threads={threads}";
        AssertClose(expected, c, 0, m, n, ldc, Tolerance<T>(k, alpha, beta, a, b), what);
    }

    private static void CheckBatched<T>(Random rng, int batch, int m, int n, int k, bool broadcastA, double alpha,
        double beta, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // All A (B) matrices live in one buffer, one per batch entry; the broadcast operand uses only entry 0.
        Matrix<T> a = Matrix<T>.Random(rng, m * batch, k, Layout.RowMajor);
        Matrix<T> b = Matrix<T>.Random(rng, k, n * batch, Layout.ColMajor);
        int ldc = n + 1;
        long cSize = (long)m * ldc;
        T[] c = NewC<T>(rng, m * batch, n, ldc, beta);
        long[] aOff = new long[batch];
        long[] bOff = new long[batch];
        long[] cOff = new long[batch];
        for (int i = 0; i < batch; i++)
        {
            aOff[i] = broadcastA ? 0 : i * m * a.RowStride;
            bOff[i] = broadcastA ? i * n * b.ColStride : 0;
            cOff[i] = i * cSize;
        }

        var expected = new double[batch][];
        for (int i = 0; i < batch; i++)
        {
            expected[i] = Reference(m, n, k, alpha, a, aOff[i], b, bOff[i], beta, c, cOff[i], ldc);
        }

        fixed (T* pa = a.Data, pb = b.Data, pc = c)
        {
            Gemm.MultiplyBatched(batch, m, n, k, T.CreateTruncating(alpha), pa, aOff, a.RowStride, a.ColStride,
                pb, bOff, b.RowStride, b.ColStride, T.CreateTruncating(beta), pc, cOff, ldc, threads);
        }

        double tol = Tolerance<T>(k, alpha, beta, a, b);
        for (int i = 0; i < batch; i++)
        {
            string what = $"batched {typeof(T).Name} #{i}/{batch} m={m} n={n} k={k} broadcastA={broadcastA}";
            AssertClose(expected[i], c, cOff[i], m, n, ldc, tol, what);
        }
    }

    /// <summary>C with random values (NaN when beta = 0, which must then never be read) and sentinel padding.</summary>
    private static T[] NewC<T>(Random rng, int m, int n, int ldc, double beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var c = new T[Math.Max(1, m * ldc)];
        for (int i = 0; i < c.Length; i++)
        {
            bool pad = ldc > 0 && i % ldc >= n;
            double v = pad ? Sentinel : beta == 0 ? double.NaN : (rng.NextDouble() * 2) - 1;
            c[i] = T.CreateTruncating(v);
        }

        return c;
    }

    /// <summary>alpha·A·B + beta·C in float64 from the exact input values (beta = 0 ignores C).</summary>
    private static double[] Reference<T>(int m, int n, int k, double alpha, Matrix<T> a, long aOff, Matrix<T> b,
        long bOff, double beta, T[] c, long cOff, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                {
                    s += double.CreateTruncating(a.Data[aOff + (i * a.RowStride) + (p * a.ColStride)])
                        * double.CreateTruncating(b.Data[bOff + (p * b.RowStride) + (j * b.ColStride)]);
                }

                double old = beta == 0 ? 0 : double.CreateTruncating(c[cOff + ((long)i * ldc) + j]);
                r[(i * n) + j] = (alpha * s) + (beta * old);
            }
        }

        return r;
    }

    /// <summary>
    /// Absolute tolerance for one C element. Rounding errors of a length-k dot product with random-sign terms add
    /// up like a random walk: about u·k·σ/√2 for plain summation (σ = typical |a·b| ≤ max|a|·max|b|), less with
    /// our KC-blocked accumulation. With k ≤ ~4K that stays under 10⁻⁵·√k·max|a|·max|b| in float32
    /// (u = 6·10⁻⁸: 10× margin at k = 4099) and under 10⁻¹³·√k·max|a|·max|b| in float64 (u = 1.1·10⁻¹⁶), while one
    /// dropped or doubled term (≈ σ ≈ 0.3 here) or any indexing bug is orders of magnitude larger. The beta·C term
    /// adds a few ulps of |beta|·max|C|.
    /// </summary>
    private static double Tolerance<T>(int k, double alpha, double beta, Matrix<T> a, Matrix<T> b)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool single = typeof(T) == typeof(float);
        double product = Math.Abs(alpha) * Math.Sqrt(Math.Max(k, 1)) * a.MaxAbs * b.MaxAbs;
        return (single ? 1e-5 : 1e-13) * product + (single ? 1e-6 : 1e-14) * (Math.Abs(beta) + 1e-30);
    }

    private static void AssertClose<T>(double[] expected, T[] c, long cOff, int m, int n, int ldc, double tol,
        string what)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < ldc; j++)
            {
                double got = double.CreateTruncating(c[cOff + ((long)i * ldc) + j]);
                if (j >= n)
                {
                    Assert.True(got == Sentinel, $"{what}: padding C[{i},{j}] overwritten with {got}");
                    continue;
                }

                double want = expected[(i * n) + j];
                Assert.True(Math.Abs(got - want) <= tol, $"{what}: C[{i},{j}] = {got}, expected {want} (tol {tol:E2})");
            }
        }
    }

    /// <summary>A test operand: buffer, strides and max |element| (values uniform in [-1, 1]).</summary>
    private sealed class Matrix<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private Matrix(T[] data, long rowStride, long colStride, double maxAbs)
        {
            Data = data;
            RowStride = rowStride;
            ColStride = colStride;
            MaxAbs = maxAbs;
        }

        public T[] Data { get; }

        public long RowStride { get; }

        public long ColStride { get; }

        public double MaxAbs { get; }

        public static Matrix<T> Random(Random rng, int rows, int cols, Layout layout)
        {
            (long rs, long cs) = layout switch
            {
                Layout.RowMajor => (cols + 3L, 1L),
                Layout.ColMajor => (1L, rows + 2L),
                _ => ((2L * cols) + 3, 2L),
            };
            long length = 1 + (Math.Max(rows - 1, 0) * rs) + (Math.Max(cols - 1, 0) * cs) + 4;
            var data = new T[length];
            double maxAbs = 0;
            for (long i = 0; i < length; i++)
            {
                double v = (rng.NextDouble() * 2) - 1;
                data[i] = T.CreateTruncating(v);
                maxAbs = Math.Max(maxAbs, Math.Abs(double.CreateTruncating(data[i])));
            }

            return new Matrix<T>(data, rs, cs, maxAbs);
        }
    }
}
