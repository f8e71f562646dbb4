// Gradient properties of the fused NN ops: softmax / log-softmax (with additive masks), RMSNorm, cross-entropy
// with ignored targets and z-loss, dropout with a fixed mask.
using System;
using System.Linq;
using CoLT5.Tensors;
using CoLT5.Tensors.Random;
using CoLT5.Tests.Testing;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Autograd;

public sealed class NnGradProperties
{
    private static readonly Gen<(int[] Shape, int Axis, ulong Seed)> Rows =
        from shape in TensorGen.ShapeOf(3)
        from axis in Gen.Choose(-shape.Length, shape.Length - 1)
        from seed in TensorGen.Seed
        select (shape, axis, seed);

    [Fact]
    public void SoftmaxAndLogSoftmaxOnAnyAxis() => Props.Check(Rows, c =>
    {
        Props.Grad(x => x[0].Softmax(c.Axis), TensorGen.Normal(c.Shape, c.Seed, scale: 3));
        Props.Grad(x => x[0].LogSoftmax(c.Axis), TensorGen.Normal(c.Shape, c.Seed, scale: 3));
    });

    [Fact]
    public void SoftmaxWithAdditiveMask() => Props.Check(Rows, c =>
    {
        // mask (1, n) with −inf at some positions but never a whole row; the mask itself is differentiable too
        var n = c.Shape[^1];
        var blocked = Enumerable.Range(0, n).Select(i => i % 3 == 1 ? double.NegativeInfinity : 0.0).ToArray();
        using var mask = Tensor.FromArray<double>(blocked, new Shape(n));
        Props.Grad(x => x[0].Softmax(mask), TensorGen.Normal(c.Shape, c.Seed, scale: 3));
        Props.Grad(x => (x[0] + x[1]).LogSoftmax(), TensorGen.Normal(c.Shape, c.Seed), TensorGen.Normal([n], c.Seed + 5));
    });

    [Fact]
    public void RmsNorm() => Props.Check(Rows, c =>
        Props.Grad(x => x[0].RmsNorm(x[1], 1e-6), TensorGen.Normal(c.Shape, c.Seed),
            TensorGen.Normal([c.Shape[^1]], c.Seed + 1)));

    private static readonly Gen<(int Rows, int Vocab, double ZLoss, ulong Seed)> Losses =
        from rows in Gen.Elements(1, 3, 7, 17)
        from vocab in Gen.Elements(2, 5, 17, 33, 257)
        from z in Gen.Elements(0.0, 1e-4, 0.1)
        from seed in TensorGen.Seed
        select (rows, vocab, z, seed);

    [Fact]
    public void CrossEntropyWithIgnoredTargetsAndZLoss() => Props.Check(Losses, c =>
    {
        var rng = new Generator(c.Seed + 9);
        var targets = Enumerable.Range(0, c.Rows).Select(i => i == 1 ? -100 : rng.NextInt(c.Vocab)).ToArray();
        if (targets.All(t => t == -100))
            targets[0] = 0;
        using var t = Tensor.FromArray<int>(targets, new Shape(c.Rows));
        Props.Grad(x => Tensor.CrossEntropy(x[0], t, zLoss: c.ZLoss), TensorGen.Normal([c.Rows, c.Vocab], c.Seed, 2));
        Props.Grad(x => Tensor.ZLoss(x[0], t, 0.3, masked: c.ZLoss > 0), TensorGen.Normal([c.Rows, c.Vocab], c.Seed));
    });

    [Fact]
    public void DropoutScalesKeptElements() => Props.Check(Rows, c =>
    {
        // a fresh generator per evaluation replays the same mask, so the op is a fixed linear map
        Props.Grad(x => x[0].Dropout(0.3, new Generator(c.Seed)), TensorGen.Normal(c.Shape, c.Seed));
        using var probe = TensorGen.Normal(c.Shape, c.Seed);
        using var kept = probe.Dropout(0.3, new Generator(c.Seed));
        var values = kept.ToArray<double>();
        var original = probe.ToArray<double>();
        for (var i = 0; i < values.Length; i++)
            Assert.True(values[i] == 0 || Math.Abs(values[i] - original[i] / 0.7) < 1e-12);
    });
}
