// Axis reductions on the CPU: inputs are made contiguous, then viewed as (outer, length, inner).
using System;
using System.Numerics;
using CoLT5.Backends.Cpu.Kernels;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public void Reduce(ReduceOp op, in TensorView x, int axis, in TensorView y)
    {
        RequireFloat("reduce", x);
        CheckReduceShapes("reduce", x, axis, y);
        if (x.DType == DType.Float32)
            ReduceOf<float>(op, x, axis, y);
        else
            ReduceOf<double>(op, x, axis, y);
    }

    private void ReduceOf<T>(ReduceOp op, TensorView x, int axis, TensorView y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var xc = ContiguousInput(x);
        using var yc = ContiguousOutput(y);
        var (outer, length, inner) = Split(x.Shape, axis);
        ReduceKernels.Reduce(op, Ptr<T>(xc.View, "reduce") + xc.View.Offset, Ptr<T>(yc.View, "reduce") + yc.View.Offset,
            outer, length, inner);
        yc.Commit();
    }

    /// <inheritdoc/>
    public void ReduceWithIndex(ReduceOp op, in TensorView x, int axis, in TensorView values, in TensorView indices)
    {
        RequireFloat("reduce_with_index", x);
        if (op is not (ReduceOp.Max or ReduceOp.Min))
            throw new NotSupportedException($"reduce_with_index supports max and min, not {op}");
        CheckReduceShapes("reduce_with_index", x, axis, values);
        SameShape("reduce_with_index", values, indices);
        if (x.DType == DType.Float32)
            ReduceWithIndexOf<float>(op, x, axis, values, indices);
        else
            ReduceWithIndexOf<double>(op, x, axis, values, indices);
    }

    private void ReduceWithIndexOf<T>(ReduceOp op, TensorView x, int axis, TensorView values, TensorView indices)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var xc = ContiguousInput(x);
        using var vc = ContiguousOutput(values);
        using var ic = ContiguousOutput(indices);
        var (outer, length, inner) = Split(x.Shape, axis);
        ReduceKernels.ReduceWithIndex(op == ReduceOp.Max, Ptr<T>(xc.View, "max") + xc.View.Offset,
            Ptr<T>(vc.View, "max") + vc.View.Offset, Ptr<int>(ic.View, "max") + ic.View.Offset, outer, length, inner);
        vc.Commit();
        ic.Commit();
    }

    private static (long Outer, int Length, long Inner) Split(Shape shape, int axis) =>
        (shape.Product(0, axis), shape[axis], shape.Product(axis + 1, shape.Rank));

    private static void CheckReduceShapes(string op, in TensorView x, int axis, in TensorView y)
    {
        if (axis < 0 || axis >= x.Rank)
            throw new AxisException(op, axis, x.Shape);
        if (y.Shape != x.Shape.With(axis, 1))
            throw new ShapeMismatchException(op, x.Shape, y.Shape, $"the output must have axis {axis} of size 1");
    }

    // ---- contiguous staging ----------------------------------------------------------------------------------

    /// <summary>The view itself when contiguous, else a pooled contiguous copy (disposed after use).</summary>
    internal Staged ContiguousInput(in TensorView view)
    {
        if (view.IsContiguous)
            return new Staged(this, view, null, default);
        var buffer = Allocate(view.DType, view.NumElements);
        var dense = TensorView.Contiguous(buffer, view.Shape);
        Copy(view, dense);
        return new Staged(this, dense, buffer, default);
    }

    /// <summary>The view itself when contiguous, else a pooled buffer copied into the view by Commit().</summary>
    internal Staged ContiguousOutput(in TensorView view)
    {
        if (view.IsContiguous)
            return new Staged(this, view, null, default);
        var buffer = Allocate(view.DType, view.NumElements);
        return new Staged(this, TensorView.Contiguous(buffer, view.Shape), buffer, view);
    }

    /// <summary>A contiguous stand-in for a view (see <see cref="ContiguousInput"/>).</summary>
    internal readonly struct Staged(CpuBackend backend, TensorView view, IDeviceBuffer? owned, TensorView target)
        : IDisposable
    {
        public TensorView View { get; } = view;

        public void Commit()
        {
            if (owned is not null && target.Buffer is not null)
                backend.Copy(View, target);
        }

        public void Dispose() => owned?.Dispose();
    }
}
