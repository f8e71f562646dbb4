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
        var (rows, n) = CheckSoftTopK(op, scores, mask, k, state, p);
        CheckRowsLike(op, scores, lambda);
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
        var (rows, n) = CheckSoftTopK(op, scores, mask, k, state, p);
        CheckRowsLike(op, scores, dLambda);
        CheckRowsLike(op, scores, dScores);
        var m = mask.Buffer is null ? null : (byte*)At<bool>(mask);
        if (scores.DType == DType.Float32)
            SoftTopKKernel.Backward(At<float>(scores), m, At<float>(k), At<double>(state), At<float>(dLambda),
                At<float>(dScores), rows, n, p);
        else
            SoftTopKKernel.Backward(At<double>(scores), m, At<double>(k), At<double>(state), At<double>(dLambda),
                At<double>(dScores), rows, n, p);
        return true;
    }

    // scores (R, n), mask (R, n) bool or absent, k (R) in the scores' dtype, state (R, T) float64; all contiguous.
    private (long Rows, int N) CheckSoftTopK(string op, in TensorView scores, in TensorView mask, in TensorView k,
        in TensorView state, SoftTopKParams p)
    {
        p.Validate();
        if (scores.Rank != 2)
            throw new InvalidShapeException(op, scores.Shape, "scores must be (rows, n)");
        var rows = scores.Shape[0];
        if (k.Shape != new Shape(rows))
            throw new ShapeMismatchException(op, scores.Shape, k.Shape, "k must hold one budget per row");
        if (state.Shape != new Shape(rows, p.StateLength))
            throw new ShapeMismatchException(op, scores.Shape, state.Shape,
                $"the state must be (rows, {p.StateLength})");
        if (k.DType != scores.DType || state.DType != DType.Float64)
            throw new DTypeMismatchException(op, $"k {k} must match scores {scores}, the state {state} be float64");
        RequireContiguous(op, scores, k, state);
        if (mask.Buffer is not null)
        {
            SameShape(op, scores, mask);
            if (mask.DType != DType.Bool)
                throw new DTypeMismatchException(op, $"the mask must be bool, got {mask}");
            RequireContiguous(op, mask);
        }
        return (rows, scores.Shape[1]);
    }

    private static void CheckRowsLike(string op, in TensorView scores, in TensorView other)
    {
        SameShape(op, scores, other);
        if (other.DType != scores.DType)
            throw new DTypeMismatchException(op, $"{other} must match scores {scores}");
        RequireContiguous(op, other);
    }
}
