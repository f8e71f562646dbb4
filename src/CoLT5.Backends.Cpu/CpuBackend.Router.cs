// The fused router normalisation on the CPU: argument checks for the coordinate-descent soft top-k forward and
// backward, then the row kernels in SoftTopKKernel.
using CoLT5.Backends.Cpu.Kernels;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public bool TrySoftTopK(in TensorView scores, in TensorView mask, in TensorView k, in TensorView lambda,
        in TensorView state, SoftTopKParams p)
    {
        const string op = "soft_top_k";
        if (scores.DType is not (DType.Float32 or DType.Float64))
            return false;
        var (rows, n) = FusedOpChecks.SoftTopK(op, scores, mask, k, state, p);
        FusedOpChecks.RowsLike(op, scores, lambda);
        var m = mask.Buffer is null ? null : (byte*)At<bool>(mask);
        if (scores.DType == DType.Float32)
            SoftTopKKernel.Forward(At<float>(scores), m, At<float>(k), At<float>(lambda), At<double>(state), rows, n,
                p);
        else
            SoftTopKKernel.Forward(At<double>(scores), m, At<double>(k), At<double>(lambda), At<double>(state), rows,
                n, p);
        return true;
    }

    /// <inheritdoc/>
    public bool TrySoftTopKBackward(in TensorView scores, in TensorView mask, in TensorView k, in TensorView state,
        in TensorView dLambda, in TensorView dScores, SoftTopKParams p)
    {
        const string op = "soft_top_k_backward";
        if (scores.DType is not (DType.Float32 or DType.Float64))
            return false;
        var (rows, n) = FusedOpChecks.SoftTopK(op, scores, mask, k, state, p);
        FusedOpChecks.RowsLike(op, scores, dLambda);
        FusedOpChecks.RowsLike(op, scores, dScores);
        var m = mask.Buffer is null ? null : (byte*)At<bool>(mask);
        if (scores.DType == DType.Float32)
            SoftTopKKernel.Backward(At<float>(scores), m, At<float>(k), At<double>(state), At<float>(dLambda),
                At<float>(dScores), rows, n, p);
        else
            SoftTopKKernel.Backward(At<double>(scores), m, At<double>(k), At<double>(state), At<double>(dLambda),
                At<double>(dScores), rows, n, p);
        return true;
    }
}
