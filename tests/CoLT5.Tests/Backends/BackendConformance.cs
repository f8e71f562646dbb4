// Backend conformance, op by op, against the scalar reference backend on random shapes (odd sizes that hit vector
// tails and partial work-groups), strided and broadcast views, forward and backward. One suite, run for the SIMD
// CPU backend (float32 and float64) and for every GPU device (float32) by the subclasses below.
using System;
using System.Linq;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;
using CoLT5.Tensors.Random;
using CoLT5.Tests.Testing;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Backends;

[Trait("Category", "Kernel")]
public sealed class CpuConformanceTests : BackendConformance
{
    protected override Device Under => Device.Cpu;

    protected override DType[] FloatTypes => [DType.Float32, DType.Float64];
}

/// <summary>The suite every backend passes; subclasses name the device and the float types it computes in.</summary>
public abstract class BackendConformance
{
    /// <summary>The backend under test (a GPU subclass skips, or fails when required, if its device is absent).</summary>
    protected abstract Device Under { get; }

    /// <summary>The float types the backend computes in.</summary>
    protected abstract DType[] FloatTypes { get; }

    /// <summary>Extra factor on the float32 tolerances (GPU reductions sum in another order).</summary>
    protected virtual double ToleranceScale => 1;

    /// <summary>The dtypes copies convert to and from on this backend.</summary>
    protected virtual DType[] CopyTypes => [DType.Float32, DType.Float64, DType.Int32, DType.Bool, DType.BFloat16];

    private Gen<(int[] Shape, DType DType, ulong Seed)> Singles =>
        from shape in TensorGen.ShapeOf(3)
        from dtype in Gen.Elements(FloatTypes)
        from seed in TensorGen.Seed
        select (shape, dtype, seed);

    private Gen<(int[] A, int[] B, DType DType, ulong Seed)> Pairs =>
        from p in TensorGen.BroadcastablePair()
        from dtype in Gen.Elements(FloatTypes)
        from seed in TensorGen.Seed
        select (p.A, p.B, dtype, seed);

    private double Tol(DType d, double scale = 1) => Conformance.Tolerance(d) * scale * ToleranceScale;

    [Fact]
    public void UnaryForwardAndBackward()
    {
        var under = Under;
        Props.Check(Singles, c =>
    {
        foreach (var op in Enum.GetValues<UnaryOp>())
        {
            var positive = op is UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Rsqrt or UnaryOp.Pow;
            Func<Tensor[]> inputs = () => [positive
                ? Conformance.Uniform(c.Shape, c.Seed, c.DType, 0.1, 3)
                : Conformance.Normal(c.Shape, c.Seed, c.DType, 3),
                Conformance.Normal(c.Shape, c.Seed + 1, c.DType)];
            var p = op switch
            {
                UnaryOp.Pow => new UnaryParams(2.5),
                UnaryOp.Clamp => new UnaryParams(-0.5, 1.25),
                UnaryOp.Affine => new UnaryParams(-1.5, 0.75),
                _ => default,
            };
            Conformance.Check($"{op} forward {c.DType} {Shape.Format(c.Shape)}", under, inputs,
                x => Apply(op, x[0], p, backward: false, x[1]), Tol(c.DType, 4));
            // derivatives such as 1 − tanh² cancel where the op saturates: allow rounding of O(1) terms
            Conformance.Check($"{op} backward {c.DType} {Shape.Format(c.Shape)}", under, inputs,
                x => Apply(op, x[0], p, backward: true, x[1]), Tol(c.DType, 4), absolute: Tol(c.DType, 4));
        }
    });
    }

    // Runs the backend op directly (forward, or backward with upstream dy) on the tensors' device.
    private static Tensor Apply(UnaryOp op, Tensor x, UnaryParams p, bool backward, Tensor dy)
    {
        var backend = x.Backend;
        using var xt = x.Transpose(0, -1);        // a strided input view when rank > 1
        var y = Tensor.Empty(xt.Shape, x.DType, x.Device);
        backend.Unary(op, xt.View, y.View, p);
        if (!backward)
            return y;
        using (y)
        {
            using var dyt = dy.Transpose(0, -1);
            var dx = Tensor.Empty(xt.Shape, x.DType, x.Device);
            backend.UnaryBackward(op, xt.View, y.View, dyt.View, dx.View, p);
            return dx;
        }
    }

    [Fact]
    public void BinaryWithBroadcastingAndComparisons()
    {
        var under = Under;
        Props.Check(Pairs, c =>
    {
        Func<Tensor[]> inputs = () => [Conformance.Normal(c.A, c.Seed, c.DType), Conformance.Uniform(c.B, c.Seed + 1, c.DType, 0.5, 2)];
        var name = $"{c.DType} {Shape.Format(c.A)} ⊕ {Shape.Format(c.B)}";
        Conformance.Check("add " + name, under, inputs, x => x[0] + x[1], Tol(c.DType));
        Conformance.Check("sub " + name, under, inputs, x => x[0] - x[1], Tol(c.DType));
        Conformance.Check("mul " + name, under, inputs, x => x[0] * x[1], Tol(c.DType));
        Conformance.Check("div " + name, under, inputs, x => x[0] / x[1], Tol(c.DType, 2));
        Conformance.Check("maximum " + name, under, inputs, x => x[0].Maximum(x[1]), 0);
        Conformance.Check("minimum " + name, under, inputs, x => x[0].Minimum(x[1]), 0);
        Conformance.Check("gt " + name, under, inputs, x => x[0].Gt(x[1]), 0);
        Conformance.Check("where " + name, under, inputs, x => Tensor.Where(x[0].Gt(0), x[0], x[1]), 0);
        Conformance.Check("transposed add " + name, under, inputs, x => x[0].Transpose(0, -1) + 1.5, Tol(c.DType));
    });
    }

    [Fact]
    public void Reductions()
    {
        var under = Under;
        Props.Check(
        from s in Singles from axis in Gen.Choose(0, s.Shape.Length - 1) select (s.Shape, s.DType, s.Seed, axis), c =>
    {
        Func<Tensor[]> inputs = () => [Conformance.Normal(c.Shape, c.Seed, c.DType, 2)];
        var scale = Math.Sqrt(c.Shape[c.axis]) * 4;
        var name = $"{c.DType} {Shape.Format(c.Shape)} axis {c.axis}";
        Conformance.Check("sum " + name, under, inputs, x => x[0].Sum(c.axis), Tol(c.DType, scale));
        Conformance.Check("mean " + name, under, inputs, x => x[0].Mean(c.axis, keepDim: true), Tol(c.DType, scale));
        Conformance.Check("logsumexp " + name, under, inputs, x => x[0].LogSumExp(c.axis), Tol(c.DType, scale));
        Conformance.Check("max " + name, under, inputs, x => x[0].Max(c.axis), 0);
        Conformance.Check("argmax " + name, under, inputs, x => x[0].ArgMax(c.axis), 0);
        Conformance.Check("min " + name, under, inputs, x => x[0].Min(c.axis), 0);
        Conformance.Check("sum of transposed " + name, under, inputs, x => x[0].Transpose(0, -1).Sum(0), Tol(c.DType, scale));
    });
    }

    [Fact]
    public void MatMulWithTransposesAndBatchBroadcast()
    {
        var under = Under;
        Props.Check(
        from m in TensorGen.Dim
        from k in TensorGen.Dim
        from n in Gen.Elements(1, 3, 17, 33, 64)
        where (long)m * k <= 8192 && (long)k * n <= 8192
        from ta in Gen.Elements(true, false)
        from tb in Gen.Elements(true, false)
        from batch in Gen.Elements(0, 1, 3)
        from dtype in Gen.Elements(FloatTypes)
        from seed in TensorGen.Seed
        select (m, k, n, ta, tb, batch, dtype, seed), c =>
    {
        int[] a = [.. (c.batch > 0 ? new[] { c.batch } : []), .. c.ta ? new[] { c.k, c.m } : new[] { c.m, c.k }];
        int[] b = c.tb ? [c.n, c.k] : [c.k, c.n];
        Conformance.Check($"matmul {c.dtype} {Shape.Format(a)}·{Shape.Format(b)} ta={c.ta} tb={c.tb}", under,
            () => [Conformance.Normal(a, c.seed, c.dtype), Conformance.Normal(b, c.seed + 1, c.dtype)],
            x => Tensor.MatMul(x[0], x[1], c.ta, c.tb), Tol(c.dtype, 4 * Math.Sqrt(c.k)));
    });
    }

    [Fact]
    public void SoftmaxRmsNormCrossEntropy()
    {
        var under = Under;
        Props.Check(Singles, c =>
    {
        var name = $"{c.DType} {Shape.Format(c.Shape)}";
        var n = c.Shape[^1];
        var tol = Tol(c.DType, 4 * Math.Sqrt(n));
        Func<Tensor[]> x1 = () => [Conformance.Normal(c.Shape, c.Seed, c.DType, 3), Conformance.Normal(c.Shape, c.Seed + 1, c.DType)];
        Conformance.Check("softmax " + name, under, x1, x => x[0].Softmax(), tol);
        Conformance.Check("log_softmax " + name, under, x1, x => x[0].LogSoftmax(), tol);
        // y·(dy − Σ dy·y) cancels when dy ≈ Σ dy·y: allow rounding of the O(1) terms
        Conformance.Check("softmax backward " + name, under, x1, x => Backward(x[0], t => t.Softmax(), x[1]), tol, tol);
        Conformance.Check("log_softmax backward " + name, under, x1, x => Backward(x[0], t => t.LogSoftmax(), x[1]), tol, tol);
        Func<Tensor[]> x2 = () => [Conformance.Normal(c.Shape, c.Seed, c.DType), Conformance.Normal([n], c.Seed + 2, c.DType),
            Conformance.Normal(c.Shape, c.Seed + 1, c.DType)];
        Conformance.Check("rms_norm " + name, under, x2, x => x[0].RmsNorm(x[1]), tol);
        // dx = rstd·g − x·rstd³·(g·x)/D: the two terms cancel when g ∥ x (always when D = 1), so the error is
        // measured against the size of the terms, max over rows of rstd·|dy·w|.
        var terms = RmsNormTermScale(x2());
        Conformance.Check("rms_norm backward x " + name, under, x2, x => Backward(x[0], t => t.RmsNorm(x[1].Detach()), x[2]),
            tol, absolute: tol * terms);
        Conformance.Check("rms_norm backward w " + name, under, x2,
            x => BackwardOf(x[1], w => x[0].Detach().RmsNorm(w), x[2]), Tol(c.DType, 8 * Math.Sqrt(c.Shape.Aggregate(1, (p, d) => p * d))));
        var rows = c.Shape.Aggregate(1, (p, d) => p * d) / n;
        var rng = new Generator(c.Seed);
        var targets = Enumerable.Range(0, rows).Select(i => i % 4 == 3 ? -100 : rng.NextInt(n)).ToArray();
        Func<Tensor[]> x3 = () => [Conformance.Normal([rows, n], c.Seed, c.DType, 3), Tensor.FromArray<int>(targets, new Shape(rows))];
        Conformance.Check("cross_entropy " + name, under, x3, x => Tensor.CrossEntropy(x[0], x[1], zLoss: 1e-2), tol);
        Conformance.Check("cross_entropy backward " + name, under, x3,
            x => BackwardOf(x[0], l => Tensor.CrossEntropy(l, x[1], zLoss: 1e-2), null), tol);
    });
    }

    /// <summary>The RMSNorm weight gradient sums over every row: many rows (the GPU splits them into chunks of
    /// partial sums), column counts around its 64-column tiles.</summary>
    [Theory]
    [InlineData(1000, 100)]
    [InlineData(3000, 64)]
    [InlineData(129, 1)]
    public void RmsNormWeightGradientOverManyRows(int rows, int n)
    {
        foreach (var dtype in FloatTypes)
        {
            Func<Tensor[]> x = () => [Conformance.Normal([rows, n], 5, dtype), Conformance.Normal([n], 6, dtype),
                Conformance.Normal([rows, n], 7, dtype)];
            Conformance.Check($"rms_norm backward w {dtype} {rows}×{n}", Under, x,
                t => BackwardOf(t[1], w => t[0].Detach().RmsNorm(w), t[2]), Tol(dtype, 8 * Math.Sqrt(rows * n)));
        }
    }

    private static Tensor Backward(Tensor x, Func<Tensor, Tensor> f, Tensor dy) => BackwardOf(x, f, dy);

    // max over rows of rstd·max|dy·w| for inputs (x, w, dy), computed in double on the host.
    private static double RmsNormTermScale(Tensor[] inputs)
    {
        var x = inputs[0].ToDoubleArray();
        var w = inputs[1].ToDoubleArray();
        var dy = inputs[2].ToDoubleArray();
        foreach (var t in inputs)
            t.Dispose();
        var d = w.Length;
        var scale = 0.0;
        for (var r = 0; r < x.Length / d; r++)
        {
            double ss = 0, g = 0;
            for (var j = 0; j < d; j++)
            {
                ss += x[r * d + j] * x[r * d + j];
                g = Math.Max(g, Math.Abs(dy[r * d + j] * w[j]));
            }
            scale = Math.Max(scale, g / Math.Sqrt(ss / d + 1e-6));
        }
        return scale;
    }

    private static Tensor BackwardOf(Tensor x, Func<Tensor, Tensor> f, Tensor? dy)
    {
        using var leaf = x.Detach();
        leaf.RequiresGrad = true;
        using var y = f(leaf);
        y.Backward(dy);
        return leaf.Grad!.Detach();
    }

    [Fact]
    public void IndexOps()
    {
        var under = Under;
        Props.Check(
        from s in Singles from axis in Gen.Choose(0, s.Shape.Length - 1) select (s.Shape, s.DType, s.Seed, axis), c =>
    {
        var size = c.Shape[c.axis];
        var rng = new Generator(c.Seed);
        var indexShape = (int[])c.Shape.Clone();
        indexShape[c.axis] = 3;
        var count = indexShape.Aggregate(1, (p, d) => p * d);
        var gatherIdx = Enumerable.Range(0, count).Select(_ => rng.NextInt(size)).ToArray();
        var selectIdx = Enumerable.Range(0, 5).Select(_ => rng.NextInt(size)).ToArray();
        var srcShape = (int[])c.Shape.Clone();
        srcShape[c.axis] = 5;
        var name = $"{c.DType} {Shape.Format(c.Shape)} axis {c.axis}";
        Func<Tensor[]> inputs = () => [Conformance.Normal(c.Shape, c.Seed, c.DType),
            Tensor.FromArray<int>(gatherIdx, new Shape(indexShape)), Conformance.Normal(indexShape, c.Seed + 1, c.DType),
            Tensor.FromArray<int>(selectIdx, new Shape(5)), Conformance.Normal(srcShape, c.Seed + 2, c.DType)];
        var tol = Tol(c.DType, 8);
        Conformance.Check("gather " + name, under, inputs, x => x[0].Gather(c.axis, x[1]), 0);
        Conformance.Check("scatter_add " + name, under, inputs, x => x[0].ScatterAdd(c.axis, x[1], x[2]), tol);
        Conformance.Check("index_select " + name, under, inputs, x => x[0].IndexSelect(c.axis, x[3]), 0);
        Conformance.Check("index_add " + name, under, inputs, x => x[0].IndexAdd(c.axis, x[3], x[4]), tol);
        Conformance.Check("topk values " + name, under, inputs, x => x[0].TopK(Math.Min(3, c.Shape[^1])).Values, 0);
        Conformance.Check("topk indices " + name, under, inputs, x => x[0].TopK(Math.Min(3, c.Shape[^1]), false).Indices, 0);
    });
    }

    [Fact]
    public void RandomFillsAreBitIdentical()
    {
        var under = Under;
        Props.Check(Singles, c =>
    {
        var shape = new Shape(c.Shape);
        Tensor Draw(Device d, int kind) => kind switch
        {
            0 => Tensor.Rand(shape, new Generator(c.Seed), -2, 3, c.DType, d),
            1 => Tensor.RandN(shape, new Generator(c.Seed), 0.5, 2, c.DType, d),
            _ => Tensor.Bernoulli(shape, new Generator(c.Seed), 0.3, c.DType, d),
        };
        for (var kind = 0; kind < 3; kind++)
        {
            using var got = Draw(under, kind);
            using var want = Draw(Device.Reference, kind);
            Assert.Equal(want.ToDoubleArray(), got.ToDoubleArray());
        }
    });
    }

    [Fact]
    public void CopiesConvertDTypes()
    {
        var under = Under;
        Props.Check(Singles, c =>
    {
        Func<Tensor[]> inputs = () => [Conformance.Normal(c.Shape, c.Seed, c.DType, 100)];
        foreach (var to in CopyTypes)
            Conformance.Check($"copy {c.DType}→{to}", under, inputs, x => x[0].Transpose(0, -1).To(to).To(FloatTypes[^1]), 0);
    });
    }
}
