// Index ops on the CPU: gather / scatter-add, index-select / index-add (with a contiguous fast path for embedding
// rows), and top-k. Every index is validated before any memory is written.
using System;
using System.Numerics;
using CoLT5.Backends.Cpu.Kernels;
using CoLT5.Backends.Cpu.Threading;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public void Gather(in TensorView x, int axis, in TensorView index, in TensorView y)
    {
        SameShape("gather", index, y);
        var size = x.Shape[axis];
        ValidateIndices("gather", index, size, axis);
        var idx = Ptr<int>(index, "gather");
        var walker = new CoordinateWalker(index.Shape,
            [CoordinateWalker.Without(x.Strides, axis), index.Strides, y.Strides], [x.Offset, index.Offset, y.Offset]);
        var axisStride = x.Strides[axis];
        var elem = x.DType.SizeOf();
        var px = (byte*)Own(x);
        var py = (byte*)Own(y);
        if (x.DType != y.DType)
            throw new DTypeMismatchException("gather", $"x {x} and y {y} differ");
        for (long i = 0; i < walker.Count; i++)
        {
            if (i > 0)
                walker.MoveNext();
            var o = walker.Offsets;
            Buffer.MemoryCopy(px + (o[0] + idx[o[1]] * axisStride) * elem, py + o[2] * elem, elem, elem);
        }
    }

    /// <inheritdoc/>
    public void ScatterAdd(in TensorView destination, int axis, in TensorView index, in TensorView source)
    {
        RequireFloat("scatter_add", destination);
        ValidateIndices("scatter_add", index, destination.Shape[axis], axis);
        if (destination.DType == DType.Float32)
            ScatterAddOf<float>(destination, axis, index, source);
        else
            ScatterAddOf<double>(destination, axis, index, source);
    }

    private void ScatterAddOf<T>(TensorView dst, int axis, TensorView index, TensorView src)
        where T : unmanaged, INumber<T>
    {
        T* pd = Ptr<T>(dst, "scatter_add"), ps = Ptr<T>(src, "scatter_add");
        var idx = Ptr<int>(index, "scatter_add");
        var walker = new CoordinateWalker(index.Shape,
            [CoordinateWalker.Without(dst.Strides, axis), index.Strides, src.Strides],
            [dst.Offset, index.Offset, src.Offset]);
        var axisStride = dst.Strides[axis];
        for (long i = 0; i < walker.Count; i++)
        {
            if (i > 0)
                walker.MoveNext();
            var o = walker.Offsets;
            pd[o[0] + idx[o[1]] * axisStride] += ps[o[2]];
        }
    }

    /// <inheritdoc/>
    public void IndexSelect(in TensorView x, int axis, in TensorView index, in TensorView y)
    {
        ValidateIndices("index_select", index, x.Shape[axis], axis);
        if (x.DType != y.DType || y.Shape != x.Shape.With(axis, index.Shape[0]))
            throw new ShapeMismatchException("index_select", x.Shape, y.Shape, "y must be x with the indexed axis resized");
        var idx = Ptr<int>(index, "index_select");
        var istride = index.Strides[0];
        var ioff = index.Offset;
        var elem = x.DType.SizeOf();
        byte* px = (byte*)Own(x), py = (byte*)Own(y);
        if (x.IsContiguous && y.IsContiguous)
        {
            // (outer, n, inner) → (outer, k, inner): copy whole inner blocks (embedding rows).
            var outer = x.Shape.Product(0, axis);
            var inner = x.Shape.Product(axis + 1, x.Rank);
            long n = x.Shape[axis], k = index.Shape[0];
            long xo = x.Offset, yo = y.Offset;
            if (inner == 1 && elem is 4 or 8)
            {
                // one element per index (the last axis): a plain gather loop, no copy call per element
                var source = px + xo * elem;
                var target = py + yo * elem;
                CpuParallel.For(outer * k, 1, (lo, hi) =>
                {
                    if (elem == 4)
                        GatherLastAxis((int*)source, (int*)target, idx + ioff, istride, n, k, lo, hi);
                    else
                        GatherLastAxis((long*)source, (long*)target, idx + ioff, istride, n, k, lo, hi);
                });
                return;
            }
            var bytes = inner * elem;
            CpuParallel.For(outer * k, inner, (lo, hi) =>
            {
                for (var item = lo; item < hi; item++)
                {
                    long o = item / k, j = item % k;
                    var src = px + (xo + (o * n + idx[ioff + j * istride]) * inner) * elem;
                    Buffer.MemoryCopy(src, py + (yo + item * inner) * elem, bytes, bytes);
                }
            });
            return;
        }
        var walker = new CoordinateWalker(y.Shape, [CoordinateWalker.Without(x.Strides, axis), y.Strides],
            [x.Offset, y.Offset]);
        var axisStride = x.Strides[axis];
        for (long i = 0; i < walker.Count; i++)
        {
            if (i > 0)
                walker.MoveNext();
            var row = idx[ioff + walker.Coordinates[axis] * istride];
            Buffer.MemoryCopy(px + (walker.Offsets[0] + row * axisStride) * elem, py + walker.Offsets[1] * elem, elem, elem);
        }
    }

    // y[o, j] = x[o, idx[j]] for items lo … hi − 1 of the flattened (outer, k) output; T only carries the bits.
    private static void GatherLastAxis<T>(T* x, T* y, int* idx, long istride, long n, long k, long lo, long hi)
        where T : unmanaged
    {
        long o = lo / k, j = lo % k;
        var row = x + o * n;
        for (var item = lo; item < hi; item++)
        {
            y[item] = row[idx[j * istride]];
            if (++j == k)
            {
                j = 0;
                row += n;
            }
        }
    }

    /// <inheritdoc/>
    public void IndexAdd(in TensorView destination, int axis, in TensorView index, in TensorView source)
    {
        RequireFloat("index_add", destination);
        ValidateIndices("index_add", index, destination.Shape[axis], axis);
        if (source.Shape != destination.Shape.With(axis, index.Shape[0]))
            throw new ShapeMismatchException("index_add", destination.Shape, source.Shape,
                "source must be the destination with the indexed axis resized");
        if (destination.DType == DType.Float32)
            IndexAddOf<float>(destination, axis, index, source);
        else
            IndexAddOf<double>(destination, axis, index, source);
    }

    private void IndexAddOf<T>(TensorView dst, int axis, TensorView index, TensorView src)
        where T : unmanaged, INumber<T>
    {
        T* pd = Ptr<T>(dst, "index_add"), ps = Ptr<T>(src, "index_add");
        var idx = Ptr<int>(index, "index_add");
        long istride = index.Strides[0], ioff = index.Offset;
        if (dst.IsContiguous && src.IsContiguous)
        {
            // Parallel over (outer, inner chunk): each worker adds every index's slice into its own columns.
            var outer = dst.Shape.Product(0, axis);
            var inner = dst.Shape.Product(axis + 1, dst.Rank);
            long n = dst.Shape[axis], k = index.Shape[0];
            const int chunk = 2048;
            var chunks = (inner + chunk - 1) / chunk;
            long dOff = dst.Offset, sOff = src.Offset;
            CpuParallel.For(outer * chunks, k * Math.Min(chunk, inner), (lo, hi) =>
            {
                for (var item = lo; item < hi; item++)
                {
                    long o = item / chunks, c0 = item % chunks * chunk;
                    var width = (int)Math.Min(chunk, inner - c0);
                    for (long j = 0; j < k; j++)
                    {
                        var d = new Span<T>(pd + dOff + (o * n + idx[ioff + j * istride]) * inner + c0, width);
                        var s = new ReadOnlySpan<T>(ps + sOff + (o * k + j) * inner + c0, width);
                        System.Numerics.Tensors.TensorPrimitives.Add<T>(d, s, d);
                    }
                }
            });
            return;
        }
        var walker = new CoordinateWalker(src.Shape, [CoordinateWalker.Without(dst.Strides, axis), src.Strides],
            [dst.Offset, src.Offset]);
        var axisStride = dst.Strides[axis];
        for (long i = 0; i < walker.Count; i++)
        {
            if (i > 0)
                walker.MoveNext();
            var row = idx[ioff + walker.Coordinates[axis] * istride];
            pd[walker.Offsets[0] + row * axisStride] += ps[walker.Offsets[1]];
        }
    }

    /// <inheritdoc/>
    public void TopK(in TensorView x, int k, bool largest, in TensorView values, in TensorView indices)
    {
        RequireFloat("topk", x);
        RequireContiguous("topk", x, values, indices);
        var n = x.Shape.Last;
        if (k < 0 || k > n || values.Shape != x.Shape.With(x.Rank - 1, k) || indices.Shape != values.Shape)
            throw new InvalidShapeException("topk", x.Shape, $"k = {k} with outputs {values.Shape}, {indices.Shape}");
        var rows = n == 0 ? 0 : x.NumElements / n;
        if (x.DType == DType.Float32)
            TopKKernel.Run(At<float>(x), At<float>(values), At<int>(indices), rows, n, k, largest);
        else
            TopKKernel.Run(At<double>(x), At<double>(values), At<int>(indices), rows, n, k, largest);
    }

    private void ValidateIndices(string op, in TensorView index, int size, int axis)
    {
        if (index.DType != DType.Int32)
            throw new DTypeMismatchException(op, $"the index must be int32, got {index}");
        var p = Ptr<int>(index, op);
        var walker = new CoordinateWalker(index.Shape, [index.Strides], [index.Offset]);
        for (long i = 0; i < walker.Count; i++)
        {
            if (i > 0)
                walker.MoveNext();
            var v = p[walker.Offsets[0]];
            if ((uint)v >= (uint)size)
                throw new TensorIndexException(op, v, size, axis);
        }
    }
}
