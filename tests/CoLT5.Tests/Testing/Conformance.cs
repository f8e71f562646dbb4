// Backend conformance: the same op on the same data on a backend under test and on the scalar reference backend
// must agree (float64 to ~1e-12, float32 to ~1e-5 relative to the tensor's magnitude).
using System;
using System.Linq;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;

namespace CoLT5.Tests.Testing;

public static class Conformance
{
    /// <summary>Relative tolerance per dtype (reductions and products scale it by √length at the call site).</summary>
    public static double Tolerance(DType dtype) => dtype == DType.Float64 ? 1e-12 : 2e-6;

    /// <summary>
    /// Runs <paramref name="op"/> on <paramref name="device"/> and on the reference backend with identical inputs
    /// (made by <paramref name="inputs"/> on the CPU, then moved) and asserts the outputs agree.
    /// </summary>
    public static void Check(string what, Device device, Func<Tensor[]> inputs, Func<Tensor[], Tensor> op,
        double tolerance, double absolute = 0)
    {
        using var scope = DisposeScope.Enter();
        var host = inputs();
        var got = op(host.Select(t => t.To(device)).ToArray());
        var want = op(host.Select(t => t.To(Device.Reference)).ToArray());
        Xunit.Assert.Equal(want.Shape, got.Shape);
        Xunit.Assert.Equal(want.DType, got.DType);
        if (want.DType.IsFloatingPoint())
            Closeness.Assert(what, got.ToDoubleArray(), want.ToDoubleArray(), tolerance, absolute);
        else
            Closeness.AssertExact(what, got.ToDoubleArray(), want.ToDoubleArray());
    }

    /// <summary>Normal values on the CPU in the given dtype.</summary>
    public static Tensor Normal(int[] shape, ulong seed, DType dtype, double scale = 1) =>
        Tensor.RandN(new Shape(shape), new Generator(seed), 0, scale, dtype);

    /// <summary>Uniform values in [lo, hi) on the CPU.</summary>
    public static Tensor Uniform(int[] shape, ulong seed, DType dtype, double lo, double hi) =>
        Tensor.Rand(new Shape(shape), new Generator(seed), lo, hi, dtype);
}
