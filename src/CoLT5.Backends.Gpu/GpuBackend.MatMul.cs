// Batched strided matrix products on the GPU (Kernels/gemm.h): transposes and batch broadcasts are strides.
using System;
using CoLT5.Backends.Gpu.Runtime;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Gpu;

/// <summary>Which SGEMM kernel <see cref="GpuBackend.MatMul"/> launches.</summary>
public enum GpuGemmKernel
{
    /// <summary>64×64 tiles of 4×4 outputs per work-item (gemm.h `gemm`).</summary>
    Tiled64,

    /// <summary>128×128 tiles of 8×8 outputs per work-item with the next K-slice prefetched into registers
    /// (gemm.h `gemm_wide`); opt-in until a GPU benchmark shows where it pays.</summary>
    Wide128,
}

public sealed partial class GpuBackend
{
    /// <summary>The SGEMM kernel (default <see cref="GpuGemmKernel.Tiled64"/>, or <c>COLT5_GPU_GEMM=wide</c>).</summary>
    public GpuGemmKernel GemmKernel { get; set; } =
        Environment.GetEnvironmentVariable("COLT5_GPU_GEMM") is "wide" ? GpuGemmKernel.Wide128 : GpuGemmKernel.Tiled64;

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
        var args = new KernelArgs();
        View(ref args, a);
        args.Long(a.Strides[^2]);
        args.Long(a.Strides[^1]);
        View(ref args, b);
        args.Long(b.Strides[^2]);
        args.Long(b.Strides[^1]);
        View(ref args, c);
        args.Long(c.Strides[^2]);
        args.Long(c.Strides[^1]);
        args.Int(m);
        args.Int(n);
        args.Int(k);
        args.Float((float)alpha);
        args.Float((float)beta);
        args.Struct(batch);
        var (tile, entry) = GemmKernel == GpuGemmKernel.Wide128 ? (128, "gemm_wide") : (64, "gemm");
        var groups = new Dim3((n + tile - 1) / tile, (m + tile - 1) / tile, (int)Math.Min(MaxGroups, batch.N));
        runtime.Launch(Kernels.Get("gemm.h", entry), groups, new Dim3(16, 16), args);
    }
}
