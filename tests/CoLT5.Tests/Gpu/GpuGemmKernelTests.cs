// Each of the GPU's SGEMM kernels (gemm.h: 64×64 `gemm`, 128×128 `gemm_wide`) against the CPU backend: sizes around
// and across their tiles and K-slices, transposed operands, batches, alpha/beta accumulation.
using System;
using CoLT5.Backends.Gpu;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;
using CoLT5.Tests.Testing;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Gpu;

public abstract class GpuGemmKernelTests
{
    protected abstract Device Under { get; }

    [Theory]
    [InlineData(GpuGemmKernel.Tiled64)]
    [InlineData(GpuGemmKernel.Wide128)]
    public void EachKernelMatchesTheCpu(GpuGemmKernel kernel)
    {
        var device = Under;
        var backend = (GpuBackend)BackendRegistry.Get(device);
        var before = backend.GemmKernel;
        backend.GemmKernel = kernel;
        try
        {
            Props.Check(
                from m in Gen.Elements(1, 7, 128, 129, 200)
                from k in Gen.Elements(1, 8, 9, 16, 24, 63)
                from n in Gen.Elements(1, 33, 128, 257)
                from ta in Gen.Elements(true, false)
                from tb in Gen.Elements(true, false)
                from batch in Gen.Elements(1, 2, 3)
                from beta in Gen.Elements(0.0, 0.5)
                from seed in TensorGen.Seed
                select (m, k, n, ta, tb, batch, beta, seed),
                c => Compare(device, c.m, c.k, c.n, c.ta, c.tb, c.batch, c.beta, c.seed));
        }
        finally
        {
            backend.GemmKernel = before;
        }
    }

    /// <summary>Few outputs over a long sum (weight gradients over a long sequence) take the split-K path: chunks of K
    /// into a workspace, then their sum in order with alpha/beta; remainders, transposes and both kernels.</summary>
    [Fact]
    public void LongSumsOverFewOutputsSplitAlongKAndMatchTheCpu()
    {
        var device = Under;
        var backend = (GpuBackend)BackendRegistry.Get(device);
        Assert.True(backend.SplitK(7, 33, 1100, 1, 64) > 1);
        Assert.Equal(1, backend.SplitK(7, 33, 1100, 2, 64));                // batched products are never split
        Assert.Equal(1, backend.SplitK(7, 33, 1000, 1, 64));                 // nor short sums
        Props.Check(
            from mn in Gen.Elements((1, 1), (7, 33), (70, 1), (130, 129))
            from k in Gen.Elements(1024, 1100, 4099)
            from ta in Gen.Elements(true, false)
            from tb in Gen.Elements(true, false)
            from beta in Gen.Elements(0.0, 0.5)
            from seed in TensorGen.Seed
            select (mn.Item1, k, mn.Item2, ta, tb, beta, seed),
            c => Compare(device, c.Item1, c.k, c.Item3, c.ta, c.tb, 1, c.beta, c.seed));
    }

    // C = A·B + beta·C0 on both backends, A and B stored transposed when asked (strides, not copies).
    private static void Compare(Device device, int m, int k, int n, bool ta, bool tb, int batch, double beta, ulong seed)
    {
        using var scope = DisposeScope.Enter();
        var a = Tensor.RandN(ta ? new Shape(batch, k, m) : new Shape(batch, m, k), new Generator(seed));
        var b = Tensor.RandN(tb ? new Shape(batch, n, k) : new Shape(batch, k, n), new Generator(seed + 1));
        var c0 = Tensor.RandN(new Shape(batch, m, n), new Generator(seed + 2));
        var want = c0.ContiguousCopy();
        var got = c0.To(device);
        var av = ta ? a.Transpose(1, 2) : a;
        var bv = tb ? b.Transpose(1, 2) : b;
        var ad = ta ? a.To(device).Transpose(1, 2) : a.To(device);                  // device views keep the strides
        var bd = tb ? b.To(device).Transpose(1, 2) : b.To(device);
        BackendRegistry.Get(Device.Cpu).MatMul(av.View, bv.View, want.View, 1, beta);
        BackendRegistry.Get(device).MatMul(ad.View, bd.View, got.View, 1, beta);
        Closeness.Assert($"gemm {batch}×{m}×{k}×{n} ta={ta} tb={tb} beta={beta}", got.ToDoubleArray(),
            want.ToDoubleArray(), 1e-5 * Math.Sqrt(k));
    }
}

[Trait("Category", "Gpu")]
[Collection(GpuCollection.Name)]
public sealed class OpenClGemmKernelTests : GpuGemmKernelTests
{
    protected override Device Under => GpuDevices.Require(DeviceKind.OpenCl);
}

[Trait("Category", "Gpu")]
[Trait("Category", "Cuda")]
[Collection(GpuCollection.Name)]
public sealed class CudaGemmKernelTests : GpuGemmKernelTests
{
    protected override Device Under => GpuDevices.Require(DeviceKind.Cuda);
}
