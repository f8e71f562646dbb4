// Gather / scatter-add / index-select / index-add and top-k on the GPU (Kernels/index.h), plus random fills
// (Kernels/random.h). Bad indices are found by the kernels and reported at the next synchronisation.
using System;
using CoLT5.Backends.Gpu.Runtime;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;
using CoLT5.Tensors.Random;

namespace CoLT5.Backends.Gpu;

public sealed partial class GpuBackend
{
    /// <inheritdoc/>
    public void Gather(in TensorView x, int axis, in TensorView index, in TensorView y)
    {
        var a = x.Shape.NormalizeAxis(axis, "gather");
        RequireIndex("gather", index, x.Rank);
        RequireShape("gather", y, index.Shape);
        SameDType("gather", x, y);
        for (var d = 0; d < x.Rank; d++)
        {
            if (d != a && index.Shape[d] > x.Shape[d])
                throw new ShapeMismatchException("gather", x.Shape, index.Shape, $"index dim {d} exceeds the input's");
        }
        GatherAxis(x, a, index, index.Strides, y);
    }

    /// <inheritdoc/>
    public void IndexSelect(in TensorView x, int axis, in TensorView index, in TensorView y)
    {
        var a = x.Shape.NormalizeAxis(axis, "index_select");
        RequireIndex("index_select", index, 1);
        RequireShape("index_select", y, x.Shape.With(a, index.Shape[0]));
        SameDType("index_select", x, y);
        GatherAxis(x, a, index, AlongAxis(index, y.Rank, a), y);
    }

    /// <inheritdoc/>
    public void ScatterAdd(in TensorView destination, int axis, in TensorView index, in TensorView source)
    {
        var a = destination.Shape.NormalizeAxis(axis, "scatter_add");
        RequireIndex("scatter_add", index, destination.Rank);
        SameDType("scatter_add", destination, source);
        for (var d = 0; d < destination.Rank; d++)
        {
            if (index.Shape[d] > source.Shape[d] || (d != a && index.Shape[d] > destination.Shape[d]))
                throw new ShapeMismatchException("scatter_add", index.Shape, source.Shape, $"index dim {d} is too large");
        }
        ScatterAxis(destination, a, index, index.Strides, source, index.Shape);
    }

    /// <inheritdoc/>
    public void IndexAdd(in TensorView destination, int axis, in TensorView index, in TensorView source)
    {
        var a = destination.Shape.NormalizeAxis(axis, "index_add");
        RequireIndex("index_add", index, 1);
        RequireShape("index_add", source, destination.Shape.With(a, index.Shape[0]));
        SameDType("index_add", destination, source);
        ScatterAxis(destination, a, index, AlongAxis(index, source.Rank, a), source, source.Shape);
    }

    /// <inheritdoc/>
    public void TopK(in TensorView x, int k, bool largest, in TensorView values, in TensorView indices)
    {
        var (rows, len) = Rows("topk", x);
        if (k < 0 || k > len)
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must lie in [0, {len}]");
        var shape = x.Shape.With(x.Rank - 1, k);
        RequireShape("topk", values, shape);
        RequireShape("topk", indices, shape);
        if (!values.IsContiguous || !indices.IsContiguous || indices.DType != DType.Int32 || values.DType != DType.Float32)
            throw new TensorException("topk", $"values (float32) and indices (int32) must be contiguous, got {values} and {indices}");
        if (k == 0 || rows == 0)
            return;
        var args = new KernelArgs();
        View(ref args, x);
        View(ref args, values);
        View(ref args, indices);
        args.Long(rows);
        args.Int(len);
        args.Int(k);
        args.Int(largest ? 1 : 0);
        LaunchRows(Kernels.Get("index.h", "topk_rows", TypeDefines(DType.Float32, "topk")), rows, args);
    }

    /// <inheritdoc/>
    public void Random(RandomKind kind, ulong seed, ulong offset, in TensorView destination, double a, double b)
    {
        if (!destination.IsContiguous)
            throw new TensorException("random", $"the destination must be contiguous, got {destination}");
        var n = destination.NumElements;
        if (n == 0)
            return;
        if (kind == RandomKind.Uniform && destination.DType == DType.Float32)
        {
            var args = new KernelArgs();
            View(ref args, destination);
            args.Long(n);
            args.Long((long)seed);
            args.Long((long)offset);
            args.Float((float)a);
            args.Float((float)b - (float)a);
            Launch1D(Kernels.Get("random.h", "random_uniform", TypeDefines(DType.Float32, "random")), n, args);
            return;
        }
        if (kind == RandomKind.Bernoulli)
        {
            var args = new KernelArgs();
            View(ref args, destination);
            args.Long(n);
            args.Long((long)seed);
            args.Long((long)offset);
            args.Long((long)Philox.Threshold(a));
            Launch1D(Kernels.Get("random.h", "random_bernoulli", TypeDefines(destination.DType, "random")), n, args);
            return;
        }
        // Normal samples need float64 log and cos to match the CPU bit for bit: drawn on the host (parameter
        // initialisation), uploaded once.
        RequireFloat32("random", destination);
        var host = new float[n];
        for (long i = 0; i < n; i++)
        {
            var e = offset + (ulong)i;
            host[i] = (float)(kind == RandomKind.Normal ? a + b * Philox.Normal(seed, e) : a + (b - a) * Philox.UniformDouble(seed, e));
        }
        Upload(System.Runtime.InteropServices.MemoryMarshal.AsBytes(host.AsSpan()), destination.Buffer,
            destination.Offset * sizeof(float));
    }

    // y[...] = x[..., index, ...]: the loop runs over y's shape with operands index, y and x (axis stride zeroed).
    private void GatherAxis(in TensorView x, int axis, in TensorView index, long[] indexStrides, in TensorView y)
    {
        if (y.NumElements == 0)
            return;
        var xStrides = (long[])x.Strides.Clone();
        xStrides[axis] = 0;
        var layout = KernelLayout.Of(y.Shape.Dims, indexStrides, y.Strides, xStrides);
        var args = new KernelArgs();
        View(ref args, index);
        View(ref args, y);
        View(ref args, x);
        args.Long(x.Strides[axis]);
        args.Int(x.Shape[axis]);
        args.Struct(layout);
        args.Buffer(ErrorBuffer);
        Launch1D(Kernels.Get("index.h", "gather_axis", TypeDefines(y.DType, "gather")), layout.N, args);
    }

    // destination[..., index, ...] += source[...]: the loop runs over `shape` with operands index, source and the
    // destination (axis stride zeroed); float accumulation is atomic, so its order (and last bits) may vary.
    private void ScatterAxis(in TensorView destination, int axis, in TensorView index, long[] indexStrides,
        in TensorView source, Shape shape)
    {
        if (shape.NumElements == 0)
            return;
        if (destination.DType == DType.Bool)
            throw Unsupported("scatter_add", destination.DType);
        var dStrides = (long[])destination.Strides.Clone();
        dStrides[axis] = 0;
        var layout = KernelLayout.Of(shape.Dims, indexStrides, Slice(source.Strides, source.Rank), dStrides);
        var args = new KernelArgs();
        View(ref args, index);
        View(ref args, source);
        View(ref args, destination);
        args.Long(destination.Strides[axis]);
        args.Int(destination.Shape[axis]);
        args.Struct(layout);
        args.Buffer(ErrorBuffer);
        Launch1D(Kernels.Get("index.h", "scatter_add_axis", TypeDefines(destination.DType, "scatter_add")), layout.N, args);
    }

    private static long[] Slice(long[] strides, int rank) => strides.Length == rank ? strides : strides[..rank];

    // A 1-D index seen over a rank-`rank` loop: stride 1 (its own) along `axis`, 0 elsewhere.
    private static long[] AlongAxis(in TensorView index, int rank, int axis)
    {
        var strides = new long[rank];
        strides[axis] = index.Strides[0];
        return strides;
    }

    private static void RequireIndex(string op, in TensorView index, int rank)
    {
        if (index.DType != DType.Int32 || index.Rank != rank)
            throw new TensorException(op, $"expected an int32 index of rank {rank}, got {index}");
    }
}
