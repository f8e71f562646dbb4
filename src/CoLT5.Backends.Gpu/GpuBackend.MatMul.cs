// Batched strided matrix products on the GPU (Kernels/gemm.h): transposes and batch broadcasts are strides.
using System;
using CoLT5.Backends.Gpu.Runtime;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Gpu;

/// <summary>Which SGEMM kernel <see cref="GpuBackend.MatMul"/> launches.</summary>
public enum GpuGemmKernel
{
    /// <summary><see cref="Wide128"/> when the product has at least 128 rows and 128 columns, else
    /// <see cref="Tiled64"/> (a 128×128 tile over a few rows leaves most of its work-items idle).</summary>
    Auto,

    /// <summary>64×64 tiles of 4×4 outputs per work-item (gemm.h `gemm`).</summary>
    Tiled64,

    /// <summary>128×128 tiles of 8×8 outputs per work-item, double-buffered K-slices read as 16-byte vectors
    /// (gemm.h `gemm_wide`).</summary>
    Wide128,
}

public sealed partial class GpuBackend
{
    /// <summary>The SGEMM kernel: <see cref="GpuGemmKernel.Auto"/> unless <c>COLT5_GPU_GEMM</c> is <c>tiled</c> or
    /// <c>wide</c>.</summary>
    public GpuGemmKernel GemmKernel { get; set; } = Environment.GetEnvironmentVariable("COLT5_GPU_GEMM") switch
    {
        "tiled" => GpuGemmKernel.Tiled64,
        "wide" => GpuGemmKernel.Wide128,
        _ => GpuGemmKernel.Auto,
    };

    /// <inheritdoc/>
    public void MatMul(in TensorView a, in TensorView b, in TensorView c, double alpha, double beta)
    {
        RequireFloat32("matmul", a);
        RequireFloat32("matmul", b);
        RequireFloat32("matmul", c);
        var (m, n, k) = BackendChecks.MatMulSizes(a, b, c);
        if (c.NumElements == 0)
            return;
        if (k == 0)
        {
            // an empty sum: c = beta·c
            if (beta == 0)
                Fill(c, 0);
            else
                Unary(UnaryOp.Affine, c, c, new UnaryParams(beta, 0));
            return;
        }
        var batch = KernelLayout.Of(c.Shape.Dims[..^2], a.Strides[..^2], b.Strides[..^2], c.Strides[..^2]);
        var wide = GemmKernel == GpuGemmKernel.Wide128 || (GemmKernel == GpuGemmKernel.Auto && m >= 128 && n >= 128);
        var A = new GemmOperand(Own(a), a.Offset, a.Strides[^2], a.Strides[^1]);
        var B = new GemmOperand(Own(b), b.Offset, b.Strides[^2], b.Strides[^1]);
        var C = new GemmOperand(Own(c), c.Offset, c.Strides[^2], c.Strides[^1]);
        var split = SplitK(m, n, k, batch.N, wide ? 128 : 64);
        if (split == 1)
        {
            Gemm(A, B, C, m, n, k, alpha, beta, batch, wide);
            return;
        }
        // Split-K: chunk s of K goes into slot s of a (slots, m, n) workspace, all chunks as one batched product
        // whose batch stride is one chunk along K in A and B; the remainder of K goes into a last slot. Then
        // C = alpha·Σ slots + beta·C, summed in slot order (no atomics: the result does not depend on scheduling).
        var chunk = k / split;
        var rest = k - split * chunk;
        var slots = split + (rest > 0 ? 1 : 0);
        using var work = (GpuBuffer)Allocate(DType.Float32, (long)slots * m * n);
        var W = new GemmOperand(work.Handle, 0, n, 1);
        var chunks = KernelLayout.Of([split], [chunk * A.ColStride], [chunk * B.RowStride], [(long)m * n]);
        Gemm(A, B, W, m, n, chunk, 1, 0, chunks, wide);
        if (rest > 0)
        {
            Gemm(A with { Offset = A.Offset + split * chunk * A.ColStride },
                B with { Offset = B.Offset + split * chunk * B.RowStride },
                W with { Offset = (long)split * m * n }, m, n, rest, 1, 0, KernelLayout.Of(ReadOnlySpan<int>.Empty), wide);
        }
        var sum = new KernelArgs();
        sum.Buffer(work.Handle);
        sum.Int(slots);
        sum.Buffer(C.Buffer);
        sum.Long(C.Offset);
        sum.Long(C.RowStride);
        sum.Long(C.ColStride);
        sum.Int(m);
        sum.Int(n);
        sum.Float((float)alpha);
        sum.Float((float)beta);
        Launch1D(Kernels.Get("gemm.h", "gemm_splitk_sum"), (long)m * n, sum);
    }

    /// <summary>How many K-chunks to split a product into: 1 unless it is a single product whose output tiles leave
    /// most compute units idle while K is long (weight gradients over a long sequence, e.g. (512 × 16384)·(16384 × 1)
    /// with one 64-row tile per 8 units); then enough chunks of at least 256 to give every unit about two tiles.</summary>
    internal int SplitK(int m, int n, int k, long batch, int tile)
    {
        if (batch != 1)
            return 1;
        var tiles = (long)((m + tile - 1) / tile) * ((n + tile - 1) / tile);
        var target = 2L * Math.Max(1, runtime.Info.ComputeUnits);
        if (tiles * 2 > target || k < 1024)
            return 1;
        return (int)Math.Min(Math.Min(target / tiles, k / 256), MaxSplitK);
    }

    /// <summary>Most K-chunks of one split product (bounds its workspace at 64 × m × n floats).</summary>
    private const int MaxSplitK = 64;

    /// <summary>One launch of the SGEMM kernel: C = alpha·A·B + beta·C over the batch layout's products.</summary>
    private void Gemm(in GemmOperand a, in GemmOperand b, in GemmOperand c, int m, int n, int k, double alpha,
        double beta, in KernelLayout batch, bool wide)
    {
        var args = new KernelArgs();
        foreach (var operand in (ReadOnlySpan<GemmOperand>)[a, b, c])
        {
            args.Buffer(operand.Buffer);
            args.Long(operand.Offset);
            args.Long(operand.RowStride);
            args.Long(operand.ColStride);
        }
        args.Int(m);
        args.Int(n);
        args.Int(k);
        args.Float((float)alpha);
        args.Float((float)beta);
        args.Struct(batch);
        var (tile, entry) = wide ? (128, "gemm_wide") : (64, "gemm");
        var groups = new Dim3((n + tile - 1) / tile, (m + tile - 1) / tile, (int)Math.Min(MaxGroups, batch.N));
        runtime.Launch(Kernels.Get("gemm.h", entry), groups, new Dim3(16, 16), args);
    }

    /// <summary>A matrix operand of the SGEMM kernels: native buffer, element offset, row and column strides.</summary>
    private readonly record struct GemmOperand(nint Buffer, long Offset, long RowStride, long ColStride);
}
