// FNet's Fourier mixing: the CPU's float64 FFT plans against a direct DFT for powers of two, primes and other
// lengths; the fused transform against the reference backend and the composed DFT-matrix products; the operator's
// identities (L² = (Nd/2)(I + P), self-adjointness, ortho RMS gain ≈ 1/√2) and bad input.
using System;
using System.Linq;
using CoLT5.Backends.Cpu.Kernels;
using CoLT5.Nn.Functional;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;
using CoLT5.Tests.Testing;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Kernels;

[Trait("Category", "Kernel")]
public sealed class FourierMixTests
{
    /// <summary>A (B, N, d) problem with odd, prime and power-of-two sizes.</summary>
    public sealed record Problem(int B, int N, int D, ulong Seed)
    {
        public override string ToString() => $"B {B}, N {N}, d {D}, seed {Seed}";
    }

    private static readonly Gen<int> Length = Gen.Frequency(
        (4, Gen.Choose(1, 12)), (2, Gen.Elements(13, 16, 17, 31, 32, 33)), (1, Gen.Elements(64, 97, 128)));

    private static readonly Gen<Problem> Problems =
        from b in Gen.Choose(1, 3)
        from n in Length
        from d in Length
        from seed in TensorGen.Seed
        select new Problem(b, n, d, seed);

    [Theory]
    [InlineData(new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 24, 31, 32 })]
    [InlineData(new[] { 33, 63, 64, 65, 96, 97, 100, 127, 128, 243, 255, 256, 257 })]
    [InlineData(new[] { 509, 512, 768, 1000, 1021, 1024, 2047, 4096 })]
    public void FftEqualsTheDirectDftInFloat64(int[] lengths)
    {
        foreach (var n in lengths)
        {
            var g = new Generator((ulong)n);
            var re = Enumerable.Range(0, n).Select(_ => g.NextNormal()).ToArray();
            var im = Enumerable.Range(0, n).Select(_ => g.NextNormal()).ToArray();
            var (wantRe, wantIm) = DirectDft(re, im);
            var (gotRe, gotIm) = Fft(re, im);
            Closeness.Assert($"n {n} real part", gotRe, wantRe, 1e-12);
            Closeness.Assert($"n {n} imaginary part", gotIm, wantIm, 1e-12);
        }
    }

    [Fact]
    public void FusedEqualsTheReferenceInBothPrecisions() => Props.Check(Problems, p =>
    {
        using var scope = DisposeScope.Enter();
        var scale = FourierMix.OrthoScale(p.N, p.D);
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            var x = Conformance.Normal([p.B, p.N, p.D], p.Seed, dtype);
            var got = Mix(x, scale);
            var want = Mix(x.To(DType.Float64).To(Device.Reference), scale);
            Closeness.Assert($"{p} {dtype}", got.ToDoubleArray(), want.ToDoubleArray(),
                dtype == DType.Float64 ? 1e-12 : 2e-6);
        }
    });

    [Fact]
    public void FusedEqualsTheComposedDftProducts() => Props.Check(Problems, p =>
    {
        using var scope = DisposeScope.Enter();
        var x = Conformance.Normal([p.B, p.N, p.D], p.Seed, DType.Float64);
        foreach (var scale in new[] { FourierMix.OrthoScale(p.N, p.D), 1.0, -0.5 })
        {
            Closeness.Assert($"{p} scale {scale} on the cpu", FourierMix.Composed(x, scale).ToDoubleArray(),
                Mix(x, scale).ToDoubleArray(), 1e-12);
            using var onReference = x.To(Device.Reference);
            Closeness.Assert($"{p} scale {scale} on the reference backend",
                FourierMix.Composed(onReference, scale).ToDoubleArray(), Mix(x, scale).ToDoubleArray(), 1e-12);
        }
    });

    /// <summary>Unscaled, L(L(X)) = (N·d/2)·(X + P X) with P the 2D index reversal (n, k) → (−n mod N, −k mod d):
    /// the real part keeps the "2D-even" half of its input and annihilates the odd half.</summary>
    [Fact]
    public void TwiceIsHalfTheSizeTimesIdentityPlusReversal() => Props.Check(Problems, p =>
    {
        using var scope = DisposeScope.Enter();
        var x = Conformance.Normal([p.B, p.N, p.D], p.Seed, DType.Float64);
        var twice = Mix(Mix(x, 1), 1).ToDoubleArray();
        var v = x.ToDoubleArray();
        var want = new double[v.Length];
        for (var b = 0; b < p.B; b++)
        {
            for (var i = 0; i < p.N; i++)
            {
                for (var k = 0; k < p.D; k++)
                {
                    var reversed = v[(b * p.N + (p.N - i) % p.N) * p.D + (p.D - k) % p.D];
                    want[(b * p.N + i) * p.D + k] = p.N * p.D / 2.0 * (v[(b * p.N + i) * p.D + k] + reversed);
                }
            }
        }
        Closeness.Assert($"{p}", twice, want, 1e-12);
    });

    /// <summary>⟨L(X), G⟩ = ⟨X, L(G)⟩: the backward is the forward transform of the upstream gradient.</summary>
    [Fact]
    public void TheTransformIsSelfAdjoint() => Props.Check(Problems, p =>
    {
        using var scope = DisposeScope.Enter();
        var x = Conformance.Normal([p.B, p.N, p.D], p.Seed, DType.Float64);
        var g = Conformance.Normal([p.B, p.N, p.D], p.Seed + 1, DType.Float64);
        var left = Dot(Mix(x, 1).ToDoubleArray(), g.ToDoubleArray());
        var right = Dot(x.ToDoubleArray(), Mix(g, 1).ToDoubleArray());
        var scale = Math.Sqrt(p.N * p.D) * Norm(x) * Norm(g);
        Assert.True(Math.Abs(left - right) <= 1e-12 * scale, $"{p}: ⟨L(X), G⟩ = {left:R}, ⟨X, L(G)⟩ = {right:R}");
    });

    /// <summary>With ortho scaling the RMS gain on i.i.d. N(0, 1) input is √(1/2 + 1/(2Nd)·#fixed points of P):
    /// 0.707 to within sampling error at these sizes (spec 3.2: comparable to an attention output).</summary>
    [Theory]
    [InlineData(256, 128)]
    [InlineData(100, 96)]
    [InlineData(97, 33)]
    public void OrthoScalingGivesAnRmsGainOfAboutOneOverRootTwo(int n, int d)
    {
        using var scope = DisposeScope.Enter();
        var x = Conformance.Normal([2, n, d], 7, DType.Float64);
        var gain = Rms(Mix(x, FourierMix.OrthoScale(n, d)).ToDoubleArray()) / Rms(x.ToDoubleArray());
        Assert.InRange(gain, 0.68, 0.73);
    }

    [Fact]
    public void StridedInputAndAliasedOutputGiveTheSameResult()
    {
        using var scope = DisposeScope.Enter();
        var x = Conformance.Normal([2, 9, 6], 3, DType.Float32);
        var transposed = Conformance.Normal([2, 6, 9], 4, DType.Float32).Transpose(1, 2);   // (2, 9, 6), strided
        var scale = FourierMix.OrthoScale(9, 6);
        Closeness.Assert("strided input", FourierMix.Forward(transposed, scale).ToDoubleArray(),
            Mix(transposed.Contiguous(), scale).ToDoubleArray(), 1e-6);
        var want = Mix(x, scale).ToDoubleArray();
        var inPlace = x.Contiguous();
        Assert.True(inPlace.Backend.TryFourierMix(inPlace.View, inPlace.View, scale));
        Closeness.Assert("y aliasing x", inPlace.ToDoubleArray(), want, 0);
    }

    [Fact]
    public void BadInputIsRejectedWithTypedErrors()
    {
        using var scope = DisposeScope.Enter();
        var matrix = Conformance.Normal([4, 4], 1, DType.Float32);
        Assert.Throws<InvalidShapeException>(() => FourierMix.Forward(matrix, 1));
        var empty = Tensor.Zeros(new Shape(1, 0, 4));
        Assert.Throws<InvalidShapeException>(() => FourierMix.Forward(empty, 1));
        var ints = Tensor.Zeros(new Shape(1, 3, 4), DType.Int32);
        Assert.Throws<DTypeMismatchException>(() => FourierMix.Forward(ints, 1));
        var x = Conformance.Normal([1, 3, 4], 2, DType.Float32);
        Assert.Throws<ArgumentOutOfRangeException>(() => FourierMix.Forward(x, double.NaN));
        var y = Tensor.Zeros(new Shape(1, 4, 3));
        Assert.Throws<ShapeMismatchException>(() => x.Backend.TryFourierMix(x.View, y.View, 1));
    }

    private static Tensor Mix(Tensor x, double scale) => FourierMix.Forward(x, scale);

    private static unsafe (double[] Re, double[] Im) Fft(double[] re, double[] im)
    {
        var plan = FftPlan.Get(re.Length);
        double[] r = (double[])re.Clone(), i = (double[])im.Clone();
        double[] sr = new double[plan.ScratchLength + 1], si = new double[plan.ScratchLength + 1];
        fixed (double* pr = r, pi = i, psr = sr, psi = si)
            plan.Forward(pr, pi, psr, psi);
        return (r, i);
    }

    // X_k = Σ_j x_j·e^(−2πi·jk/n) with jk reduced modulo n, accumulated in float64.
    private static (double[] Re, double[] Im) DirectDft(double[] re, double[] im)
    {
        var n = re.Length;
        double[] outRe = new double[n], outIm = new double[n];
        for (var k = 0; k < n; k++)
        {
            double sr = 0, si = 0;
            for (var j = 0; j < n; j++)
            {
                var angle = 2 * Math.PI * ((long)j * k % n) / n;
                double c = Math.Cos(angle), s = -Math.Sin(angle);
                sr += re[j] * c - im[j] * s;
                si += re[j] * s + im[j] * c;
            }
            (outRe[k], outIm[k]) = (sr, si);
        }
        return (outRe, outIm);
    }

    private static double Dot(double[] a, double[] b) => a.Zip(b, (u, v) => u * v).Sum();

    private static double Norm(Tensor t) => Math.Sqrt(t.ToDoubleArray().Sum(v => v * v));

    private static double Rms(double[] v) => Math.Sqrt(v.Sum(u => u * u) / v.Length);
}
