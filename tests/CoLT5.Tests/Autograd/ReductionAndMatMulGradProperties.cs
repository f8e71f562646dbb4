// Gradient properties of reductions (sum, mean, max, min, logsumexp with keepdim) and batched matmul with
// broadcast batch dimensions and transposed operands.
using System.Linq;
using CoLT5.Tensors;
using CoLT5.Tests.Testing;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Autograd;

public sealed class ReductionAndMatMulGradProperties
{
    private static readonly Gen<(int[] Shape, int Axis, bool Keep, ulong Seed)> Reductions =
        from shape in TensorGen.ShapeOf(3)
        from axis in Gen.Choose(-shape.Length, shape.Length - 1)
        from keep in Gen.Elements(true, false)
        from seed in TensorGen.Seed
        select (shape, axis, keep, seed);

    [Fact]
    public void SumMeanLogSumExp() => Props.Check(Reductions, c =>
    {
        Props.Grad(x => x[0].Sum(c.Axis, c.Keep), TensorGen.Normal(c.Shape, c.Seed));
        Props.Grad(x => x[0].Mean(c.Axis, c.Keep), TensorGen.Normal(c.Shape, c.Seed));
        Props.Grad(x => x[0].LogSumExp(c.Axis, c.Keep), TensorGen.Normal(c.Shape, c.Seed, scale: 3));
        Props.Grad(x => x[0].Sum(), TensorGen.Normal(c.Shape, c.Seed));
        Props.Grad(x => x[0].Mean(), TensorGen.Normal(c.Shape, c.Seed));
    });

    [Fact]
    public void MaxAndMin() => Props.Check(Reductions, c =>
    {
        Props.Grad(x => x[0].Max(c.Axis, c.Keep), TensorGen.Distinct(c.Shape, c.Seed));
        Props.Grad(x => x[0].Min(c.Axis, c.Keep), TensorGen.Distinct(c.Shape, c.Seed));
    });

    private static readonly Gen<(int[] BatchA, int[] BatchB, int M, int K, int N, bool TA, bool TB, ulong Seed)> Products =
        from batch in TensorGen.ShapeOf(2, 16, TensorGen.SmallDim)
        from useBatch in Gen.Elements(0, 1, 2)
        from ones in Gen.Elements(true, false).ArrayOf(batch.Length)
        from m in TensorGen.Dim
        from k in TensorGen.Dim
        from n in Gen.Elements(1, 3, 7, 17, 33)
        where (long)m * k <= 4096 && (long)k * n <= 4096
        from ta in Gen.Elements(true, false)
        from tb in Gen.Elements(true, false)
        from seed in TensorGen.Seed
        let bA = useBatch == 0 ? [] : batch
        let bB = useBatch == 2 ? [] : batch.Select((d, i) => ones[i] ? 1 : d).ToArray()
        select (bA, bB, m, k, n, ta, tb, seed);

    [Fact]
    public void BatchedMatMulWithBroadcastAndTransposes() => Props.Check(Products, c =>
    {
        int[] aShape = [.. c.BatchA, .. c.TA ? new[] { c.K, c.M } : new[] { c.M, c.K }];
        int[] bShape = [.. c.BatchB, .. c.TB ? new[] { c.N, c.K } : new[] { c.K, c.N }];
        Props.Grad(x => Tensor.MatMul(x[0], x[1], c.TA, c.TB),
            TensorGen.Normal(aShape, c.Seed), TensorGen.Normal(bShape, c.Seed + 1));
    });

    [Fact]
    public void MatMulWithVectors() => Props.Check(
        from k in TensorGen.Dim from n in TensorGen.SmallDim from seed in TensorGen.Seed select (k, n, seed), c =>
    {
        Props.Grad(x => x[0].MatMul(x[1]), TensorGen.Normal([c.k], c.seed), TensorGen.Normal([c.k, c.n], c.seed + 1));
        Props.Grad(x => x[0].MatMul(x[1]), TensorGen.Normal([c.n, c.k], c.seed), TensorGen.Normal([c.k], c.seed + 1));
        Props.Grad(x => x[0].MatMul(x[1]), TensorGen.Normal([c.k], c.seed), TensorGen.Normal([c.k], c.seed + 1));
    });
}
