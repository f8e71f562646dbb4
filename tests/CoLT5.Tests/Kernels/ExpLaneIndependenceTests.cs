// The CPU exp (shared by the unary op, softmax, log-softmax backward, logsumexp, cross-entropy and the soft top-k)
// gives every element a value independent of its neighbours: a masked or overflowing element (−1e10, the dtype's
// min, ±∞, NaN, ±800) in the same SIMD vector must not change the others by a bit. CoreLib's double vector exp did
// (differently before and after JIT tier-up), which made masked float64 attention rows irreproducible. Sigmoid,
// built on it, gives a value the same bits wherever it sits in a span.
using System;
using System.Linq;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;
using Xunit;

namespace CoLT5.Tests.Kernels;

[Trait("Category", "Kernel")]
public sealed class ExpLaneIndependenceTests
{
    private static readonly double[] Specials =
        [-1e10, double.MinValue, double.NegativeInfinity, double.NaN, -800, 800, 701, double.PositiveInfinity];

    public static TheoryData<int, DType> Lengths()
    {
        var data = new TheoryData<int, DType>();
        foreach (var n in new[] { 4, 8, 9, 16, 37 })
        {
            data.Add(n, DType.Float64);
            data.Add(n, DType.Float32);
        }
        return data;
    }

    // A row of N(0, 4) values with every third position special (or, in the plain twin, 0.5 there).
    private static (double[] Special, double[] Plain, bool[] IsSpecial) Rows(int n, ulong seed)
    {
        var g = new Generator(seed);
        var plain = Enumerable.Range(0, n).Select(_ => 2 * g.NextNormal()).ToArray();
        var isSpecial = Enumerable.Range(0, n).Select(i => i % 3 == 2).ToArray();
        var special = plain.Select((v, i) => isSpecial[i] ? Specials[i / 3 % Specials.Length] : v).ToArray();
        return (special, plain.Select((v, i) => isSpecial[i] ? 0.5 : v).ToArray(), isSpecial);
    }

    private static double[] Run(double[] values, DType dtype, Func<Tensor, Tensor> op)
    {
        using var scope = DisposeScope.Enter();
        using var noGrad = Tensor.NoGrad();
        var x = Tensor.FromArray<double>(values, new Shape(values.Length)).To(dtype);
        return op(x).ToDoubleArray();
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void ExpOfAnElementIgnoresItsNeighbours(int n, DType dtype)
    {
        var (special, plain, isSpecial) = Rows(n, (ulong)n);
        var got = Run(special, dtype, x => x.Exp());
        var want = Run(plain, dtype, x => x.Exp());
        for (var i = 0; i < n; i++)
        {
            var expected = isSpecial[i] ? Math.Exp(dtype == DType.Float32 ? (float)special[i] : special[i]) : want[i];
            var same = got[i].Equals(expected)
                || (dtype == DType.Float32 && isSpecial[i] && (float)got[i] == (float)expected);
            Assert.True(same, $"n {n} {dtype}: exp at {i} is {got[i]:R}, expected {expected:R}");
        }
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void SigmoidGivesAValueTheSameBitsInEveryPosition(DType dtype)
    {
        foreach (var v in new[] { -800.0, -40, -19, -5, -1, -1e-8, 0, 0.3, 1, 9, 17, 40, 800 })
        {
            var alone = Run([v], dtype, x => x.Sigmoid())[0];
            var row = Run(Enumerable.Repeat(v, 37).ToArray(), dtype, x => x.Sigmoid());
            Assert.All(row, y => Assert.Equal(BitConverter.DoubleToInt64Bits(alone), BitConverter.DoubleToInt64Bits(y)));
            var exact = 1 / (1 + Math.Exp(-(dtype == DType.Float32 ? (float)v : v)));
            var tolerance = dtype == DType.Float32 ? 3e-7 : 1e-15;
            Assert.True(Math.Abs(alone - exact) <= tolerance * exact + double.Epsilon,
                $"{dtype} sigmoid({v}) = {alone:R}, expected {exact:R}");
        }
    }
}
