// FsCheck generators for shapes (odd sizes that hit SIMD tails, broadcastable pairs) and seeded float64 tensors.
using System;
using System.Linq;
using CoLT5.Tensors;
using CoLT5.Tensors.Random;
using FsCheck;
using FsCheck.Fluent;

namespace CoLT5.Tests.Testing;

public static class TensorGen
{
    /// <summary>Dimension sizes that exercise scalar tails and vector bodies (1, 3, 7, 17, 33; 1025 rarely).</summary>
    public static Gen<int> Dim { get; } = Gen.Frequency(
        (4, Gen.Elements(1, 2, 3, 5, 7)), (2, Gen.Elements(16, 17, 33)), (1, Gen.Constant(1025)));

    /// <summary>Small dims only (for ops whose cost grows quickly).</summary>
    public static Gen<int> SmallDim { get; } = Gen.Elements(1, 2, 3, 5, 7);

    /// <summary>A shape of rank 1..maxRank whose element count stays below <paramref name="maxElements"/>.</summary>
    public static Gen<int[]> ShapeOf(int maxRank, int maxElements = 4096, Gen<int>? dim = null) =>
        from rank in Gen.Choose(1, maxRank)
        from dims in (dim ?? Dim).ArrayOf(rank)
        where dims.Aggregate(1L, (a, d) => a * d) <= maxElements
        select dims;

    /// <summary>Two shapes that broadcast together: the second drops leading dims and sets some to 1.</summary>
    public static Gen<(int[] A, int[] B)> BroadcastablePair(int maxRank = 3) =>
        from a in ShapeOf(maxRank, 2048)
        from drop in Gen.Choose(0, a.Length - 1)
        from ones in Gen.Elements(true, false).ArrayOf(a.Length - drop)
        from swap in Gen.Elements(true, false)
        let b = a.Skip(drop).Select((d, i) => ones[i] ? 1 : d).ToArray()
        select swap ? (b, a) : (a, b);

    /// <summary>A seed for tensor values.</summary>
    public static Gen<ulong> Seed { get; } = Gen.Choose(0, int.MaxValue).Select(i => (ulong)i);

    /// <summary>A float64 leaf with N(0, 1) values that requires grad.</summary>
    public static Tensor Normal(int[] shape, ulong seed, double scale = 1, double shift = 0)
    {
        var t = Tensor.RandN(new Shape(shape), new Generator(seed), shift, scale, DType.Float64);
        t.RequiresGrad = true;
        return t;
    }

    /// <summary>Values at least 0.01 away from every kink (for relu,
    /// abs, clamp), so finite differences never straddle a kink.</summary>
    public static Tensor AwayFrom(int[] shape, ulong seed, params double[] kinks)
    {
        const double margin = 1e-2;
        var values = Tensor.RandN(new Shape(shape), new Generator(seed), dtype: DType.Float64).ToArray<double>();
        for (var i = 0; i < values.Length; i++)
        {
            foreach (var kink in kinks)
            {
                if (Math.Abs(values[i] - kink) < margin)
                    values[i] = kink + (values[i] >= kink ? margin : -margin) * 2;
            }
        }
        var t = Tensor.FromArray<double>(values, new Shape(shape));
        t.RequiresGrad = true;
        return t;
    }

    /// <summary>Distinct values (a shuffled ramp with spacing 0.05), so max/top-k selections are stable under a
    /// finite-difference step.</summary>
    public static Tensor Distinct(int[] shape, ulong seed)
    {
        var n = (int)shape.Aggregate(1L, (a, d) => a * d);
        var rng = new Generator(seed);
        var values = Enumerable.Range(0, n).Select(i => (i - n / 2.0) * 0.05).ToArray();
        for (var i = n - 1; i > 0; i--)
        {
            var j = rng.NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
        var t = Tensor.FromArray<double>(values, new Shape(shape));
        t.RequiresGrad = true;
        return t;
    }

    /// <summary>Positive values in [0.2, 2.2) (for log, sqrt, rsqrt, pow, division).</summary>
    public static Tensor Positive(int[] shape, ulong seed)
    {
        var t = Tensor.Rand(new Shape(shape), new Generator(seed), 0.2, 2.2, DType.Float64);
        t.RequiresGrad = true;
        return t;
    }
}
