// Gradient properties of index ops (embedding, gather, index-select, scatter-add, index-add, top-k) and of
// layout ops (reshape, permute, narrow, expand, squeeze/unsqueeze, concat, split, stack).
using System.Linq;
using CoLT5.Tensors;
using CoLT5.Tensors.Random;
using CoLT5.Tests.Testing;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Autograd;

public sealed class IndexingAndMovementGradProperties
{
    private static readonly Gen<(int[] Shape, int Axis, ulong Seed)> Cases =
        from shape in TensorGen.ShapeOf(3, 2048)
        from axis in Gen.Choose(0, shape.Length - 1)
        from seed in TensorGen.Seed
        select (shape, axis, seed);

    private static Tensor RandomIndex(int[] shape, int bound, ulong seed)
    {
        var rng = new Generator(seed);
        var n = (int)shape.Aggregate(1L, (a, d) => a * d);
        return Tensor.FromArray<int>(Enumerable.Range(0, n).Select(_ => rng.NextInt(bound)).ToArray(), new Shape(shape));
    }

    [Fact]
    public void GatherAndScatterAdd() => Props.Check(Cases, c =>
    {
        var indexShape = (int[])c.Shape.Clone();
        indexShape[c.Axis] = 1 + (int)(c.Seed % 5);
        using var index = RandomIndex(indexShape, c.Shape[c.Axis], c.Seed);   // repeats accumulate
        Props.Grad(x => x[0].Gather(c.Axis, index), TensorGen.Normal(c.Shape, c.Seed));
        Props.Grad(x => x[0].ScatterAdd(c.Axis, index, x[1]), TensorGen.Normal(c.Shape, c.Seed),
            TensorGen.Normal(indexShape, c.Seed + 1));
    });

    [Fact]
    public void IndexSelectIndexAddAndEmbedding() => Props.Check(Cases, c =>
    {
        var k = 1 + (int)(c.Seed % 6);
        using var index = RandomIndex([k], c.Shape[c.Axis], c.Seed);
        var sourceShape = (int[])c.Shape.Clone();
        sourceShape[c.Axis] = k;
        Props.Grad(x => x[0].IndexSelect(c.Axis, index), TensorGen.Normal(c.Shape, c.Seed));
        Props.Grad(x => x[0].IndexAdd(c.Axis, index, x[1]), TensorGen.Normal(c.Shape, c.Seed),
            TensorGen.Normal(sourceShape, c.Seed + 1));
        using var ids = RandomIndex([2, k], 9, c.Seed + 2);
        Props.Grad(x => Tensor.Embedding(x[0], ids), TensorGen.Normal([9, 5], c.Seed));
    });

    [Fact]
    public void TopK() => Props.Check(Cases, c =>
    {
        var n = c.Shape[^1];
        var k = (int)(c.Seed % (ulong)(n + 1));
        Props.Grad(x => x[0].TopK(k).Values, TensorGen.Distinct(c.Shape, c.Seed));
        Props.Grad(x => x[0].TopK(k, largest: false).Values, TensorGen.Distinct(c.Shape, c.Seed));
    });

    [Fact]
    public void LayoutOps() => Props.Check(Cases, c =>
    {
        var rank = c.Shape.Length;
        var perm = Enumerable.Range(0, rank).Reverse().ToArray();
        Props.Grad(x => x[0].Permute((int[])perm.Clone()).Reshape(-1), TensorGen.Normal(c.Shape, c.Seed));
        Props.Grad(x => x[0].Transpose(0, rank - 1).Contiguous() * 2.0, TensorGen.Normal(c.Shape, c.Seed));
        var len = c.Shape[c.Axis];
        Props.Grad(x => x[0].Narrow(c.Axis, len / 2, len - len / 2), TensorGen.Normal(c.Shape, c.Seed));
        Props.Grad(x => x[0].Unsqueeze(0).Expand([3, .. c.Shape]) * 1.0, TensorGen.Normal(c.Shape, c.Seed));
        Props.Grad(x => x[0].Unsqueeze(c.Axis).Squeeze(c.Axis), TensorGen.Normal(c.Shape, c.Seed));
    });

    [Fact]
    public void ConcatSplitStack() => Props.Check(Cases, c =>
    {
        var other = (int[])c.Shape.Clone();
        other[c.Axis] = 1 + (int)(c.Seed % 4);
        Props.Grad(x => Tensor.Cat([x[0], x[1], x[0]], c.Axis), TensorGen.Normal(c.Shape, c.Seed),
            TensorGen.Normal(other, c.Seed + 1));
        Props.Grad(x => Tensor.Stack([x[0], x[1]], c.Axis), TensorGen.Normal(c.Shape, c.Seed),
            TensorGen.Normal(c.Shape, c.Seed + 1));
        Props.Grad(x =>
        {
            var parts = x[0].Split(2, c.Axis);
            return Tensor.Cat(parts.Reverse().ToArray(), c.Axis) * 3.0;
        }, TensorGen.Normal(c.Shape, c.Seed));
    });
}
