// Batched strided matrix products on the GPU (Kernels/gemm.h): transposes and batch broadcasts are strides.
using System;
using CoLT5.Backends.Gpu.Runtime;
using CoLT5.Tensors;
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
        var rank = c.Rank;
        if (rank < 2 || a.Rank != rank || b.Rank != rank)
            throw new ShapeMismatchException("matmul", a.Shape, b.Shape, $"operands must have the output's rank {rank}");
        int m = c.Shape[^2], n = c.Shape[^1], k = a.Shape[^1];
        if (a.Shape[^2] != m || b.Shape[^2] != k || b.Shape[^1] != n)
            throw new ShapeMismatchException("matmul", a.Shape, b.Shape, $"cannot produce {c.Shape}");
        for (var i = 0; i < rank - 2; i++)
        {
            if (a.Shape[i] != c.Shape[i] || b.Shape[i] != c.Shape[i])
                throw new ShapeMismatchException("matmul", a.Shape, b.Shape, "batch dimensions must equal the output's");
        }
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
        args.Buffer(Own(a));
        args.Long(a.Offset);
        args.Long(a.Strides[^2]);
        args.Long(a.Strides[^1]);
        args.Buffer(Own(b));
        args.Long(b.Offset);
        args.Long(b.Strides[^2]);
        args.Long(b.Strides[^1]);
        args.Buffer(Own(c));
        args.Long(c.Offset);
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
