// The GPU's fused kernels (attention forward/backward, soft top-k forward/backward) on every GPU device against the
// CPU references: the generated attention problems of FusedAttentionTests (bands, masks, positions, side sets, GQA,
// bias tables), tile edges, a bad bucket map, the router kernel against the float64 reference backend, and Fourier
// mixing (composed on the device) against the reference DFT.
using System;
using CoLT5.Nn.Functional;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;
using CoLT5.Tests.Kernels;
using CoLT5.Tests.Routing;
using CoLT5.Tests.Testing;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Gpu;

public abstract class GpuFusedKernelTests
{
    protected abstract Device Under { get; }

    /// <summary>Float32 on the device against the float64 composed reference on the CPU: 4× the CPU's float32
    /// budget of 2e-5 (FMA contraction and other summation orders).</summary>
    private const double Float32Tolerance = 8e-5;

    [Fact]
    public void AttentionMatchesTheFloat64Reference()
    {
        var device = Under;
        Props.Check(FusedAttentionTests.Recipes, r => FusedAttentionTests.Compare(r, DType.Float32,
            Float32Tolerance, device));
    }

    /// <summary>Many query and key tiles, bands that start and end inside tiles, head dims 64 and 128 (tile sizes
    /// change with the head dimension), multi-query heads.</summary>
    [Theory]
    [InlineData(300, 300, 70, 16, 2)]
    [InlineData(129, 200, 0, 64, 2)]
    [InlineData(257, 257, 127, 64, 1)]
    [InlineData(64, 65, 63, 128, 2)]
    [InlineData(100, 90, int.MaxValue, 200, 2)]
    public void AttentionBandsAcrossManyTiles(int tq, int tk, int window, int d, int groups) =>
        FusedAttentionTests.Compare(new AttentionRecipe(1, 2, tq, d,
            new SetRecipe(tk, 0.9, false, false, window, true, 32, -128, 257), null, 5)
        { G = groups },
            DType.Float32, Float32Tolerance, Under);

    /// <summary>A bias table too large for the dQ pass's local histogram (600 buckets, over 512) declines the fused
    /// kernels, forward and backward alike, and the composed path gives the same answer.</summary>
    [Fact]
    public void ATableTooLargeForTheKernelsTakesTheComposedPath()
    {
        var device = Under;
        FusedAttentionTests.Compare(new AttentionRecipe(1, 2, 40, 16,
            new SetRecipe(50, 0.9, false, false, 9, true, 600, -300, 601), null, 6),
            DType.Float32, Float32Tolerance, device);
        using var scope = DisposeScope.Enter();
        var q = Tensor.RandN(new Shape(1, 2, 5, 8), new Generator(1), device: device);
        var k = Tensor.RandN(new Shape(1, 2, 7, 8), new Generator(2), device: device);
        var table = Tensor.Zeros(new Shape(2, 600), device: device);
        var map = Tensor.Zeros(new Shape(11), DType.Int32, device);
        var keys = new AttentionKeys(k.View, k.View, default, default, default, int.MaxValue, table.View, map.View, -5);
        var backend = BackendRegistry.Get(device);
        Assert.False(backend.TryAttention(q.View, keys, default, Tensor.Zeros(q.Shape, device: device).View,
            Tensor.Zeros(new Shape(1, 2, 5), device: device).View));
    }

    /// <summary>The device runs its own kernel (no silent fallback to the composed path).</summary>
    [Fact]
    public void TheFusedKernelRunsOnTheDevice()
    {
        var device = Under;
        using var scope = DisposeScope.Enter();
        var backend = BackendRegistry.Get(device);
        Assert.True(backend.HasFusedAttention);
        var q = Tensor.RandN(new Shape(1, 2, 5, 8), new Generator(1), device: device);
        var k = Tensor.RandN(new Shape(1, 2, 7, 8), new Generator(2), device: device);
        var output = Tensor.Zeros(q.Shape, device: device);
        var lse = Tensor.Zeros(new Shape(1, 2, 5), device: device);
        var keys = new AttentionKeys(k.View, k.View, default, default, default, int.MaxValue, default, default, 0);
        Assert.True(backend.TryAttention(q.View, keys, default, output.View, lse.View));
        Assert.All(lse.ToDoubleArray(), v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void ABucketMapEntryOutsideTheTableIsReported()
    {
        var device = Under;
        using var scope = DisposeScope.Enter();
        var q = Tensor.RandN(new Shape(1, 2, 4, 4), new Generator(1), device: device);
        var k = Tensor.RandN(new Shape(1, 2, 4, 4), new Generator(2), device: device);
        var table = Tensor.Zeros(new Shape(3, 2), device: device);
        var bad = Tensor.FromArray<int>([0, 1, 3, 1, 0], new Shape(5), device);
        var set = new AttentionKeySet(k, k) { Bias = new BucketedBias(table, bad, -2) };
        var e = Assert.Throws<TensorIndexException>(() => FusedAttention.Forward(q, set).ToDoubleArray());
        Assert.Contains("bucket map", e.Message);
    }

    /// <summary>Float32 soft top-k on the device against the reference backend on the same float32 inputs (it
    /// computes in float64 and rounds once), with the CPU kernel's budget: 4× the composed float32 path's error.</summary>
    [Fact]
    public void SoftTopKMatchesTheReference()
    {
        var device = Under;
        Props.Check(
            from c in SoftTopKCases.Any()
            from set in Gen.Elements(RouterSetting.Paper, RouterSetting.Scaled)
            select (c, set),
            x => CompareSoftTopK(x.c, x.set, device));
    }

    /// <summary>Rows longer than a work-group (every thread holds several tokens), several rows.</summary>
    [Theory]
    [InlineData(1000, 3, 0)]
    [InlineData(4099, 2, 2)]
    public void SoftTopKOnLongRows(int n, int rows, int maskKind)
    {
        foreach (var set in new[] { RouterSetting.Paper, RouterSetting.Scaled })
            CompareSoftTopK(SoftTopKCases.Build(new RouterRecipe(rows, n, maskKind, 1.0, 0.3, 11)), set, Under);
    }

    /// <summary>Fourier mixing on the device (its composed DFT-matrix products: the GPU has no FFT kernel) against
    /// the float64 reference DFT, forward and the self-adjoint backward, on power-of-two, odd and prime sizes.</summary>
    [Theory]
    [InlineData(2, 16, 8)]
    [InlineData(1, 97, 33)]
    [InlineData(3, 7, 1)]
    [InlineData(1, 256, 64)]
    public void FourierMixMatchesTheReference(int batch, int n, int d)
    {
        var device = Under;
        using var scope = DisposeScope.Enter();
        var scale = FourierMix.OrthoScale(n, d);
        var host = Tensor.RandN(new Shape(batch, n, d), new Generator(3), dtype: DType.Float64);
        var upstream = Tensor.RandN(new Shape(batch, n, d), new Generator(4), dtype: DType.Float64);
        var x = host.To(DType.Float32).To(device);
        x.RequiresGrad = true;
        var y = FourierMix.Forward(x, scale);
        y.Backward(upstream.To(DType.Float32).To(device));
        Assert.False(BackendRegistry.Get(device).TryFourierMix(x.View, y.View, scale));
        var truth = FourierMix.Forward(host.To(Device.Reference), scale);
        Closeness.Assert($"({batch}, {n}, {d}) forward on {device}", y.ToDoubleArray(), truth.ToDoubleArray(),
            Float32Tolerance);
        var gradient = FourierMix.Forward(upstream.To(Device.Reference), scale);
        Closeness.Assert($"({batch}, {n}, {d}) gradient on {device}", x.Grad!.ToDoubleArray(),
            gradient.ToDoubleArray(), Float32Tolerance);
    }

    private static void CompareSoftTopK(RouterCase c0, RouterSetting set, Device device)
    {
        var c = SoftTopKCases.AwayFromKinks(c0, set, 1e-5) ?? c0;
        var truth = SoftTopKCases.Kernel(c, set, DType.Float32, Device.Reference).Lambda;
        var gpu = SoftTopKCases.Kernel(c, set, DType.Float32, device).Lambda;
        var composed = SoftTopKCases.Run(c, set, DType.Float32, fused: false);
        Closeness.Assert($"{set} {c} float32 λ on {device}", gpu, truth,
            Math.Max(1e-5, 4 * SoftTopKCases.Error(composed.Lambda, truth)));
        var scale = SoftTopKCases.GradScale(c, set, truth);
        var want = SoftTopKCases.KernelGrad(c, set, DType.Float32, Device.Reference);
        var budget = Math.Max(1e-5, 4 * SoftTopKCases.ScaledError(composed.Grad, want, scale));
        var e = SoftTopKCases.ScaledError(SoftTopKCases.KernelGrad(c, set, DType.Float32, device), want, scale);
        Assert.True(e <= budget, $"{set} {c}: float32 gradient error on {device} {e:E2} > {budget:E2}");
    }
}

[Trait("Category", "Gpu")]
[Collection(GpuCollection.Name)]
public sealed class OpenClFusedKernelTests : GpuFusedKernelTests
{
    protected override Device Under => GpuDevices.Require(DeviceKind.OpenCl);
}

[Trait("Category", "Gpu")]
[Trait("Category", "Cuda")]
[Collection(GpuCollection.Name)]
public sealed class CudaFusedKernelTests : GpuFusedKernelTests
{
    protected override Device Under => GpuDevices.Require(DeviceKind.Cuda);
}
