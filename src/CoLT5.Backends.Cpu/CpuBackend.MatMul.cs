// Batched matrix products on the CPU: batch offsets are computed from the views' strides (zero strides repeat a
// broadcast operand), then the packed GEMM runs every product.
using System.Numerics;
using CoLT5.Backends.Cpu.Threading;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

using GemmKernel = CoLT5.Backends.Cpu.Gemm.Gemm;

namespace CoLT5.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public void MatMul(in TensorView a, in TensorView b, in TensorView c, double alpha, double beta)
    {
        RequireFloat("matmul", a);
        if (a.DType != b.DType || a.DType != c.DType)
            throw new DTypeMismatchException("matmul", $"operand dtypes differ: {a}, {b}, {c}");
        var (m, n, k) = BackendChecks.MatMulSizes(a, b, c);
        var rank = c.Rank;
        if (c.Strides[^1] != 1 && n > 1)
            throw new TensorException("matmul", $"the output rows must be contiguous, got {c}");

        var batch = checked((int)c.Shape.Product(0, rank - 2));
        var ldc = m > 1 ? c.Strides[^2] : n;
        if (batch == 1)
        {
            // a single product: no offset tables (keeps the call free of GC allocations)
            if (a.DType == DType.Float32)
                Single<float>(a, b, c, alpha, beta, m, n, k, ldc);
            else
                Single<double>(a, b, c, alpha, beta, m, n, k, ldc);
            return;
        }
        var aOff = new long[batch];
        var bOff = new long[batch];
        var cOff = new long[batch];
        var walker = new Kernels.CoordinateWalker(new Shape(c.Shape.Dims[..^2]),
            [a.Strides[..^2], b.Strides[..^2], c.Strides[..^2]], [a.Offset, b.Offset, c.Offset]);
        for (var i = 0; i < batch; i++)
        {
            if (i > 0)
                walker.MoveNext();
            aOff[i] = walker.Offsets[0];
            bOff[i] = walker.Offsets[1];
            cOff[i] = walker.Offsets[2];
        }
        if (a.DType == DType.Float32)
            Run<float>(a, b, c, alpha, beta, batch, m, n, k, aOff, bOff, cOff, ldc);
        else
            Run<double>(a, b, c, alpha, beta, batch, m, n, k, aOff, bOff, cOff, ldc);
    }

    private void Single<T>(in TensorView a, in TensorView b, in TensorView c, double alpha, double beta, int m, int n,
        int k, long ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* pa = Ptr<T>(a, "matmul"), pb = Ptr<T>(b, "matmul"), pc = Ptr<T>(c, "matmul");
        GemmKernel.Multiply(m, n, k, T.CreateChecked(alpha),
            pa + a.Offset, a.Strides[^2], a.Strides[^1],
            pb + b.Offset, b.Strides[^2], b.Strides[^1],
            T.CreateChecked(beta), pc + c.Offset, ldc, CpuParallel.MaxThreads);
    }

    private void Run<T>(in TensorView a, in TensorView b, in TensorView c, double alpha, double beta, int batch, int m,
        int n, int k, long[] aOff, long[] bOff, long[] cOff, long ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* pa = Ptr<T>(a, "matmul"), pb = Ptr<T>(b, "matmul"), pc = Ptr<T>(c, "matmul");
        GemmKernel.MultiplyBatched(batch, m, n, k, T.CreateChecked(alpha),
            pa, aOff, a.Strides[^2], a.Strides[^1],
            pb, bOff, b.Strides[^2], b.Strides[^1],
            T.CreateChecked(beta), pc, cOff, ldc, CpuParallel.MaxThreads);
    }
}
