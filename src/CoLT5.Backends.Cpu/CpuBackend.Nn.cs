// Fused softmax, RMSNorm and cross-entropy on the CPU: argument checks, then the row kernels in NnKernels.
using CoLT5.Backends.Cpu.Kernels;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public void Softmax(in TensorView x, in TensorView y, bool log)
    {
        RequireFloat("softmax", x);
        SameShape("softmax", x, y);
        RequireContiguous("softmax", x, y);
        var n = x.Shape.Last;
        var rows = n == 0 ? 0 : x.NumElements / n;
        if (x.DType == DType.Float32)
            NnKernels.Softmax(At<float>(x), At<float>(y), rows, n, log);
        else
            NnKernels.Softmax(At<double>(x), At<double>(y), rows, n, log);
    }

    /// <inheritdoc/>
    public void SoftmaxBackward(in TensorView y, in TensorView dy, in TensorView dx, bool log)
    {
        RequireFloat("softmax_backward", y);
        SameShape("softmax_backward", y, dy);
        SameShape("softmax_backward", y, dx);
        RequireContiguous("softmax_backward", y, dy, dx);
        var n = y.Shape.Last;
        var rows = n == 0 ? 0 : y.NumElements / n;
        if (y.DType == DType.Float32)
            NnKernels.SoftmaxBackward(At<float>(y), At<float>(dy), At<float>(dx), rows, n, log);
        else
            NnKernels.SoftmaxBackward(At<double>(y), At<double>(dy), At<double>(dx), rows, n, log);
    }

    /// <inheritdoc/>
    public void RmsNorm(in TensorView x, in TensorView weight, in TensorView y, in TensorView rstd, double eps)
    {
        var (rows, d) = CheckRows("rms_norm", x, weight, y, rstd);
        if (x.DType == DType.Float32)
            NnKernels.RmsNorm(At<float>(x), At<float>(weight), At<float>(y), At<float>(rstd), rows, d, (float)eps);
        else
            NnKernels.RmsNorm(At<double>(x), At<double>(weight), At<double>(y), At<double>(rstd), rows, d, eps);
    }

    /// <inheritdoc/>
    public void RmsNormBackward(in TensorView x, in TensorView weight, in TensorView rstd, in TensorView dy,
        in TensorView dx, in TensorView dweight)
    {
        var (rows, d) = CheckRows("rms_norm_backward", x, weight, dx, rstd);
        SameShape("rms_norm_backward", x, dy);
        SameShape("rms_norm_backward", weight, dweight);
        RequireContiguous("rms_norm_backward", dy, dweight);
        if (x.DType == DType.Float32)
            NnKernels.RmsNormBackward(At<float>(x), At<float>(weight), At<float>(rstd), At<float>(dy), At<float>(dx),
                At<float>(dweight), rows, d);
        else
            NnKernels.RmsNormBackward(At<double>(x), At<double>(weight), At<double>(rstd), At<double>(dy),
                At<double>(dx), At<double>(dweight), rows, d);
    }

    private (long Rows, int D) CheckRows(string op, in TensorView x, in TensorView weight, in TensorView y,
        in TensorView rstd)
    {
        RequireFloat(op, x);
        SameShape(op, x, y);
        RequireContiguous(op, x, weight, y, rstd);
        if (x.Rank != 2 || weight.Shape != new Shape(x.Shape[1]) || rstd.Shape != new Shape(x.Shape[0]))
            throw new ShapeMismatchException(op, x.Shape, weight.Shape, "expects x (R, D), weight (D), rstd (R)");
        return (x.Shape[0], x.Shape[1]);
    }

    /// <inheritdoc/>
    public void CrossEntropy(in TensorView logits, in TensorView targets, in TensorView nll, in TensorView lse,
        int ignoreIndex)
    {
        var (rows, v) = CheckCrossEntropy("cross_entropy", logits, targets, nll, lse, ignoreIndex);
        if (logits.DType == DType.Float32)
            NnKernels.CrossEntropy(At<float>(logits), At<int>(targets), At<float>(nll), At<float>(lse), rows, v,
                ignoreIndex);
        else
            NnKernels.CrossEntropy(At<double>(logits), At<int>(targets), At<double>(nll), At<double>(lse), rows, v,
                ignoreIndex);
    }

    /// <inheritdoc/>
    public void CrossEntropyBackward(in TensorView logits, in TensorView targets, in TensorView lse,
        in TensorView gradNll, in TensorView gradLse, in TensorView dlogits, int ignoreIndex)
    {
        var (rows, v) = CheckCrossEntropy("cross_entropy_backward", logits, targets, gradNll, lse, ignoreIndex);
        SameShape("cross_entropy_backward", gradNll, gradLse);
        SameShape("cross_entropy_backward", logits, dlogits);
        RequireContiguous("cross_entropy_backward", gradLse, dlogits);
        if (logits.DType == DType.Float32)
            NnKernels.CrossEntropyBackward(At<float>(logits), At<int>(targets), At<float>(lse), At<float>(gradNll),
                At<float>(gradLse), At<float>(dlogits), rows, v, ignoreIndex);
        else
            NnKernels.CrossEntropyBackward(At<double>(logits), At<int>(targets), At<double>(lse), At<double>(gradNll),
                At<double>(gradLse), At<double>(dlogits), rows, v, ignoreIndex);
    }

    private (long Rows, int V) CheckCrossEntropy(string op, in TensorView logits, in TensorView targets,
        in TensorView nll, in TensorView lse, int ignoreIndex)
    {
        RequireFloat(op, logits);
        RequireContiguous(op, logits, targets, nll, lse);
        if (logits.Rank != 2 || targets.Shape != new Shape(logits.Shape[0]) || nll.Shape != targets.Shape
            || lse.Shape != targets.Shape)
            throw new ShapeMismatchException(op, logits.Shape, targets.Shape, "expects logits (R, V), targets (R)");
        var v = logits.Shape[1];
        var t = At<int>(targets);
        for (long r = 0; r < targets.NumElements; r++)
        {
            if (t[r] != ignoreIndex && (uint)t[r] >= (uint)v)
                throw new TensorIndexException(op, t[r], v, 1);
        }
        return (logits.Shape[0], v);
    }

    /// <summary>Typed pointer to a view's first element.</summary>
    internal T* At<T>(in TensorView view) where T : unmanaged => Ptr<T>(view, "cpu") + view.Offset;

    private static void RequireContiguous(string op, params System.ReadOnlySpan<TensorView> views)
    {
        foreach (var v in views)
        {
            if (!v.IsContiguous)
                throw new TensorException(op, $"the CPU kernel needs contiguous operands, got {v}");
        }
    }
}
