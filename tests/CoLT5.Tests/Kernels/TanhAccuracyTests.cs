// The CPU tanh against Math.Tanh over 40 decades of |x| (tiny, where TensorPrimitives.Tanh lost every digit in
// float32, through the series/exp switch, to saturation), with the same bits for a value wherever it sits in a span.
using System;
using System.Linq;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;
using Xunit;

namespace CoLT5.Tests.Kernels;

[Trait("Category", "Kernel")]
public sealed class TanhAccuracyTests
{
    private static double[] Run(double[] values, DType dtype)
    {
        using var scope = DisposeScope.Enter();
        using var noGrad = Tensor.NoGrad();
        return Tensor.FromArray<double>(values, new Shape(values.Length)).To(dtype).Tanh().ToDoubleArray();
    }

    [Theory]
    [InlineData(DType.Float64, 4e-16)]
    [InlineData(DType.Float32, 6e-7)]
    public void TanhIsAccurateFromTinyToSaturated(DType dtype, double relTolerance)
    {
        var g = new Generator(7);
        // |x| = 10^u, u uniform in [−30, 2], random signs; 1003 values so vector bodies and scalar tails both run.
        var xs = Enumerable.Range(0, 1003)
            .Select(_ => Math.Pow(10, 32 * g.NextDouble() - 30) * (g.NextDouble() < 0.5 ? -1 : 1))
            .Select(v => dtype == DType.Float32 ? (double)(float)v : v)
            .Concat([0.25, -0.25, 0.2499999, 0.2500001, 1e-40, -0.0, 0.0])
            .ToArray();
        var got = Run(xs, dtype);
        for (var i = 0; i < xs.Length; i++)
        {
            var exact = Math.Tanh(xs[i]);
            var error = Math.Abs(got[i] - exact);
            Assert.True(error <= relTolerance * Math.Abs(exact) + (dtype == DType.Float32 ? 1e-45 : 0),
                $"{dtype} tanh({xs[i]:R}) = {got[i]:R}, expected {exact:R} (relative error {error / Math.Abs(exact):E2})");
            Assert.Equal(Math.Sign(exact), Math.Sign(got[i]));
        }
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void TanhSaturatesAndKeepsNaN(DType dtype)
    {
        var got = Run([double.PositiveInfinity, double.NegativeInfinity, 1e6, -1e6, 30, double.NaN], dtype);
        Assert.Equal([1.0, -1.0, 1.0, -1.0, 1.0], got.Take(5));
        Assert.True(double.IsNaN(got[5]));
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void TanhGivesAValueTheSameBitsInEveryPosition(DType dtype)
    {
        foreach (var v in new[] { -20.0, -1, -0.25, -1e-3, 1e-9, 0.1, 0.2500001, 0.7, 3 })
        {
            var alone = Run([v], dtype)[0];
            var row = Run(Enumerable.Repeat(v, 37).ToArray(), dtype);
            Assert.All(row, y => Assert.Equal(BitConverter.DoubleToInt64Bits(alone), BitConverter.DoubleToInt64Bits(y)));
        }
    }
}
