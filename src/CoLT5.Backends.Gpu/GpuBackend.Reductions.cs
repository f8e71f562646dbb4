// Reductions and row-wise NN ops on the GPU (Kernels/reduce.h): one work-group per lane or row.
using System;
using CoLT5.Backends.Gpu.Runtime;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Gpu;

public sealed partial class GpuBackend
{
    /// <summary>Work-items of a row group (RG in reduce.h).</summary>
    private const int RowGroup = 256;

    /// <inheritdoc/>
    public void Reduce(ReduceOp op, in TensorView x, int axis, in TensorView y)
    {
        RequireFloat32("reduce", x);
        RequireFloat32("reduce", y);
        var a = x.Shape.NormalizeAxis(axis, "reduce");
        RequireShape("reduce", y, x.Shape.With(a, 1));
        var len = x.Shape[a];
        if (len == 0 && op is ReduceOp.Max or ReduceOp.Min)
            throw new InvalidShapeException("reduce", x.Shape, $"axis {a} is empty, so it has no {op}");
        var layout = Lanes(x.Shape, a, x.Strides, y.Strides);
        var args = new KernelArgs();
        args.Int((int)op);
        View(ref args, x);
        args.Long(x.Strides[a]);
        View(ref args, y);
        args.Struct(layout);
        args.Int(len);
        LaunchRows(Kernels.Get("reduce.h", "reduce_axis"), layout.N, args);
    }

    /// <inheritdoc/>
    public void ReduceWithIndex(ReduceOp op, in TensorView x, int axis, in TensorView values, in TensorView indices)
    {
        RequireFloat32("reduce_with_index", x);
        RequireFloat32("reduce_with_index", values);
        if (indices.DType != DType.Int32)
            throw new DTypeMismatchException("reduce_with_index", $"indices must be int32, got {indices}");
        if (op is not (ReduceOp.Max or ReduceOp.Min))
            throw new ArgumentOutOfRangeException(nameof(op), op, "only Max and Min have an index");
        var a = x.Shape.NormalizeAxis(axis, "reduce_with_index");
        RequireShape("reduce_with_index", values, x.Shape.With(a, 1));
        RequireShape("reduce_with_index", indices, x.Shape.With(a, 1));
        var len = x.Shape[a];
        if (len == 0)
            throw new InvalidShapeException("reduce_with_index", x.Shape, $"axis {a} is empty, so it has no {op}");
        var layout = Lanes(x.Shape, a, x.Strides, values.Strides, indices.Strides);
        var args = new KernelArgs();
        args.Int((int)op);
        View(ref args, x);
        args.Long(x.Strides[a]);
        View(ref args, values);
        View(ref args, indices);
        args.Struct(layout);
        args.Int(len);
        LaunchRows(Kernels.Get("reduce.h", "reduce_index"), layout.N, args);
    }

    /// <inheritdoc/>
    public void Softmax(in TensorView x, in TensorView y, bool log)
    {
        var name = log ? "log_softmax" : "softmax";
        RequireFloat32(name, x);
        RequireFloat32(name, y);
        RequireShape(name, y, x.Shape);
        if (x.Rank == 0)
            throw new InvalidShapeException(name, x.Shape, "needs at least one dimension");
        var last = x.Rank - 1;
        var layout = Lanes(x.Shape, last, x.Strides, y.Strides);
        var args = new KernelArgs();
        View(ref args, x);
        args.Long(x.Strides[last]);
        View(ref args, y);
        args.Long(y.Strides[last]);
        args.Struct(layout);
        args.Int(x.Shape[last]);
        args.Int(log ? 1 : 0);
        LaunchRows(Kernels.Get("reduce.h", "softmax_rows"), layout.N, args);
    }

    /// <inheritdoc/>
    public void SoftmaxBackward(in TensorView y, in TensorView dy, in TensorView dx, bool log)
    {
        var name = log ? "log_softmax_backward" : "softmax_backward";
        var (rows, len) = Rows(name, y, dy, dx);
        var args = new KernelArgs();
        View(ref args, y);
        View(ref args, dy);
        View(ref args, dx);
        args.Long(rows);
        args.Int(len);
        args.Int(log ? 1 : 0);
        LaunchRows(Kernels.Get("reduce.h", "softmax_backward_rows"), rows, args);
    }

    /// <inheritdoc/>
    public void RmsNorm(in TensorView x, in TensorView weight, in TensorView y, in TensorView rstd, double eps)
    {
        var (rows, len) = Rows("rms_norm", x, y);
        RequireContiguous("rms_norm", weight, len);
        RequireContiguous("rms_norm", rstd, rows);
        var args = new KernelArgs();
        View(ref args, x);
        View(ref args, weight);
        View(ref args, y);
        View(ref args, rstd);
        args.Long(rows);
        args.Int(len);
        args.Float((float)eps);
        LaunchRows(Kernels.Get("reduce.h", "rmsnorm_rows"), rows, args);
    }

    /// <inheritdoc/>
    public void RmsNormBackward(in TensorView x, in TensorView weight, in TensorView rstd, in TensorView dy,
        in TensorView dx, in TensorView dweight)
    {
        var (rows, len) = Rows("rms_norm_backward", x, dy, dx);
        RequireContiguous("rms_norm_backward", weight, len);
        RequireContiguous("rms_norm_backward", dweight, len);
        RequireContiguous("rms_norm_backward", rstd, rows);
        var args = new KernelArgs();
        View(ref args, x);
        View(ref args, weight);
        View(ref args, rstd);
        View(ref args, dy);
        View(ref args, dx);
        args.Long(rows);
        args.Int(len);
        LaunchRows(Kernels.Get("reduce.h", "rmsnorm_backward_rows"), rows, args);

        // dweight: partial sums over chunks of rows (every unit busy however few columns there are), then their
        // sum over the chunks in order
        var per = Math.Max(WeightGradRows, (rows + MaxWeightGradChunks - 1) / MaxWeightGradChunks);
        var chunks = (rows + per - 1) / per;
        if (chunks == 0)
        {
            Fill(dweight, 0);
            return;
        }
        using var partial = (GpuBuffer)Allocate(DType.Float32, chunks * len);
        var grad = new KernelArgs();
        View(ref grad, x);
        View(ref grad, rstd);
        View(ref grad, dy);
        grad.Buffer(partial.Handle);
        grad.Long(rows);
        grad.Int(len);
        grad.Long(per);
        runtime.Launch(Kernels.Get("reduce.h", "rmsnorm_weight_grad"), new Dim3((len + 63) / 64, (int)chunks),
            new Dim3(256), grad);
        Reduce(ReduceOp.Sum, TensorView.Contiguous(partial, new Shape((int)chunks, len)), 0,
            TensorView.Contiguous(dweight.Buffer, new Shape(1, len), dweight.Offset));
    }

    /// <summary>Fewest rows per chunk of the RMSNorm weight gradient's partial sums.</summary>
    private const long WeightGradRows = 128;

    /// <summary>Most chunks (rows of partial sums) of the RMSNorm weight gradient.</summary>
    private const long MaxWeightGradChunks = 1024;

    /// <inheritdoc/>
    public void CrossEntropy(in TensorView logits, in TensorView targets, in TensorView nll, in TensorView lse,
        int ignoreIndex)
    {
        var (rows, len) = Rows("cross_entropy", logits);
        RequireIndices("cross_entropy", targets, rows);
        RequireContiguous("cross_entropy", nll, rows);
        RequireContiguous("cross_entropy", lse, rows);
        var args = new KernelArgs();
        View(ref args, logits);
        View(ref args, targets);
        View(ref args, nll);
        View(ref args, lse);
        args.Long(rows);
        args.Int(len);
        args.Int(ignoreIndex);
        args.Buffer(ErrorBuffer);
        LaunchRows(Kernels.Get("reduce.h", "cross_entropy_rows"), rows, args);
    }

    /// <inheritdoc/>
    public void CrossEntropyBackward(in TensorView logits, in TensorView targets, in TensorView lse,
        in TensorView gradNll, in TensorView gradLse, in TensorView dlogits, int ignoreIndex)
    {
        var (rows, len) = Rows("cross_entropy_backward", logits, dlogits);
        RequireIndices("cross_entropy_backward", targets, rows);
        RequireContiguous("cross_entropy_backward", lse, rows);
        RequireContiguous("cross_entropy_backward", gradNll, rows);
        RequireContiguous("cross_entropy_backward", gradLse, rows);
        var args = new KernelArgs();
        View(ref args, logits);
        View(ref args, targets);
        View(ref args, lse);
        View(ref args, gradNll);
        View(ref args, gradLse);
        View(ref args, dlogits);
        args.Long(rows);
        args.Int(len);
        args.Int(ignoreIndex);
        args.Buffer(ErrorBuffer);
        Launch1D(Kernels.Get("reduce.h", "cross_entropy_backward"), (long)rows * len, args);
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    /// <summary>A grid-stride launch of one work-group per row.</summary>
    private void LaunchRows(GpuKernel kernel, long rows, in KernelArgs args)
    {
        if (rows == 0)
            return;
        runtime.Launch(kernel, new Dim3((int)Math.Min(MaxGroups, rows)), new Dim3(RowGroup), args);
    }

    /// <summary>The layout of the lanes along <paramref name="axis"/>: the shape without that axis, each operand's
    /// strides without it.</summary>
    private static KernelLayout Lanes(Shape shape, int axis, params long[][] strides)
    {
        var dims = shape.Without(axis).Dims.ToArray();
        var without = new long[strides.Length][];
        for (var k = 0; k < strides.Length; k++)
        {
            without[k] = new long[dims.Length];
            for (int d = 0, e = 0; d < shape.Rank; d++)
            {
                if (d != axis)
                    without[k][e++] = strides[k][d];
            }
        }
        return KernelLayout.Of(dims, without);
    }

    /// <summary>(rows, row length) of contiguous float32 views of one shape, flattened to 2-D over the last axis.</summary>
    private static (long Rows, int Len) Rows(string op, params TensorView[] views)
    {
        var first = views[0];
        foreach (var v in views)
        {
            RequireFloat32(op, v);
            RequireShape(op, v, first.Shape);
            if (!v.IsContiguous)
                throw new TensorException(op, $"the GPU kernel needs contiguous rows, got {v}");
        }
        if (first.Rank == 0)
            throw new InvalidShapeException(op, first.Shape, "needs at least one dimension");
        var len = first.Shape[first.Rank - 1];
        return (len == 0 ? 0 : first.NumElements / len, len);
    }

    private static void RequireShape(string op, in TensorView v, Shape shape)
    {
        if (v.Shape != shape)
            throw new ShapeMismatchException(op, v.Shape, shape, "unexpected shape");
    }

    private static void RequireContiguous(string op, in TensorView v, long count)
    {
        RequireFloat32(op, v);
        if (!v.IsContiguous || v.NumElements != count)
            throw new TensorException(op, $"expected {count} contiguous elements, got {v}");
    }

    private static void RequireIndices(string op, in TensorView v, long count)
    {
        if (v.DType != DType.Int32 || !v.IsContiguous || v.NumElements != count)
            throw new TensorException(op, $"expected {count} contiguous int32 targets, got {v}");
    }
}
