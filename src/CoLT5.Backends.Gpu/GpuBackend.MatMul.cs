// Batched strided matrix products on the GPU (Kernels/gemm.h): transposes and batch broadcasts are strides.
using System;
using CoLT5.Backends.Gpu.Runtime;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Gpu;

public sealed partial class GpuBackend
{
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
        var groups = new Dim3((n + 63) / 64, (m + 63) / 64, (int)Math.Min(MaxGroups, batch.N));
        runtime.Launch(Kernels.Get("gemm.h", "gemm"), groups, new Dim3(16, 16), args);
    }
}
