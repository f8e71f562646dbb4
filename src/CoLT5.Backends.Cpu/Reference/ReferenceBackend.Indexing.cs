// Index-driven kernels of the reference backend: gather / scatter_add, index_select / index_add and top-k. Every
// index is validated before anything is read through it or written, so a bad index leaves the outputs untouched.
using System;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Cpu.Reference;

public sealed partial class ReferenceBackend
{
    /// <summary>
    /// y[i] = x[i with coordinate <paramref name="axis"/> replaced by index[i]] for every multi-index i of index
    /// (y has index's shape; index may be smaller than x in the other dimensions). Indices must lie in
    /// [0, x.Shape[axis]); negative ones are errors, as in torch.gather.
    /// </summary>
    public void Gather(in TensorView x, int axis, in TensorView index, in TensorView y)
    {
        const string name = "gather";
        var hx = Host(x, name, "x");
        var hIndex = Host(index, name, "index");
        var hy = Host(y, name, "y");
        RequireDType(name, "index", index, DType.Int32);
        RequireSameDType(name, "y", y, x);
        var a = x.Shape.NormalizeAxis(axis, name);
        RequireIndexLike(name, x, a, index, "x");
        RequireShape(name, "y", y, index.Shape);
        var targets = ReadIndices(hIndex, x.Shape.Dims[a], a, name);

        var walkIndex = hIndex.Walk();
        var walkY = hy.Walk();
        var coords = new int[x.Rank];
        while (walkIndex.MoveNext() && walkY.MoveNext())
        {
            walkIndex.Index.CopyTo(coords);
            coords[a] = targets[walkIndex.Position];
            hy[walkY.Offset] = hx[StridedIndex.OffsetOf(x, coords)];
        }
    }

    /// <summary>
    /// destination[i with coordinate <paramref name="axis"/> replaced by index[i]] += source[i] for every
    /// multi-index i of index, in row-major order of i (repeated indices accumulate, each addition rounded to the
    /// destination dtype). index may be smaller than source everywhere and than destination off the axis.
    /// </summary>
    public void ScatterAdd(in TensorView destination, int axis, in TensorView index, in TensorView source)
    {
        const string name = "scatter_add";
        var hd = Host(destination, name, "destination");
        var hIndex = Host(index, name, "index");
        var hs = Host(source, name, "source");
        RequireDType(name, "index", index, DType.Int32);
        RequireSameDType(name, "source", source, destination);
        var a = destination.Shape.NormalizeAxis(axis, name);
        RequireIndexLike(name, destination, a, index, "destination");
        RequireIndexLike(name, source, -1, index, "source");
        var targets = ReadIndices(hIndex, destination.Shape.Dims[a], a, name);

        var walkIndex = hIndex.Walk();
        var coords = new int[destination.Rank];
        while (walkIndex.MoveNext())
        {
            var value = hs[StridedIndex.OffsetOf(source, walkIndex.Index)];
            walkIndex.Index.CopyTo(coords);
            coords[a] = targets[walkIndex.Position];
            var offset = StridedIndex.OffsetOf(destination, coords);
            hd[offset] = hd[offset] + value;
        }
    }

    /// <summary>y[.., i, ..] = x[.., index[i], ..] along <paramref name="axis"/> for a 1-D int32 index.</summary>
    public void IndexSelect(in TensorView x, int axis, in TensorView index, in TensorView y)
    {
        const string name = "index_select";
        var hx = Host(x, name, "x");
        var hIndex = Host(index, name, "index");
        var hy = Host(y, name, "y");
        RequireDType(name, "index", index, DType.Int32);
        RequireRank(name, "index", index, 1);
        RequireSameDType(name, "y", y, x);
        var a = x.Shape.NormalizeAxis(axis, name);
        RequireShape(name, "y", y, x.Shape.With(a, index.Shape.Dims[0]));
        var targets = ReadIndices(hIndex, x.Shape.Dims[a], a, name);

        var walkY = hy.Walk();
        var coords = new int[x.Rank];
        while (walkY.MoveNext())
        {
            walkY.Index.CopyTo(coords);
            coords[a] = targets[coords[a]];
            hy[walkY.Offset] = hx[StridedIndex.OffsetOf(x, coords)];
        }
    }

    /// <summary>
    /// destination[.., index[i], ..] += source[.., i, ..] along <paramref name="axis"/> for a 1-D int32 index, in
    /// row-major order of source (repeated indices accumulate).
    /// </summary>
    public void IndexAdd(in TensorView destination, int axis, in TensorView index, in TensorView source)
    {
        const string name = "index_add";
        var hd = Host(destination, name, "destination");
        var hIndex = Host(index, name, "index");
        var hs = Host(source, name, "source");
        RequireDType(name, "index", index, DType.Int32);
        RequireRank(name, "index", index, 1);
        RequireSameDType(name, "source", source, destination);
        var a = destination.Shape.NormalizeAxis(axis, name);
        RequireShape(name, "source", source, destination.Shape.With(a, index.Shape.Dims[0]));
        var targets = ReadIndices(hIndex, destination.Shape.Dims[a], a, name);

        var walkSource = hs.Walk();
        var coords = new int[destination.Rank];
        while (walkSource.MoveNext())
        {
            walkSource.Index.CopyTo(coords);
            coords[a] = targets[coords[a]];
            var offset = StridedIndex.OffsetOf(destination, coords);
            hd[offset] = hd[offset] + hs[walkSource.Offset];
        }
    }

    /// <summary>
    /// The k largest (or smallest) entries of each last-axis row, sorted descending (ascending), ties to the lower
    /// index, NaN greater than every number (first when largest, last when smallest). 0 ≤ k ≤ row length.
    /// </summary>
    public void TopK(in TensorView x, int k, bool largest, in TensorView values, in TensorView indices)
    {
        const string name = "topk";
        var hx = Host(x, name, "x");
        var hv = Host(values, name, "values");
        var hi = Host(indices, name, "indices");
        RequireFloat(name, "x", x);
        RequireSameDType(name, "values", values, x);
        RequireDType(name, "indices", indices, DType.Int32);
        if (x.Rank == 0)
            throw new InvalidShapeException(name, x.Shape, "needs at least one dimension");
        var last = x.Rank - 1;
        var length = x.Shape.Dims[last];
        if (k < 0 || k > length)
            throw new InvalidShapeException(name, x.Shape, $"k = {k} must lie in [0, {length}]");
        RequireShape(name, "values", values, x.Shape.With(last, k));
        RequireShape(name, "indices", indices, x.Shape.With(last, k));

        var lanesX = StridedIndex.Lanes(x, last);
        var lanesV = StridedIndex.Lanes(values, last);
        var lanesI = StridedIndex.Lanes(indices, last);
        while (lanesX.MoveNext() && lanesV.MoveNext() && lanesI.MoveNext())
        {
            var row = ReadLane(hx, lanesX.Offset, x.Strides[last], length);
            var order = new int[length];
            for (var j = 0; j < length; j++)
                order[j] = j;
            Array.Sort(order, (p, q) =>
            {
                var byValue = largest ? CompareWithNaNLargest(row[q], row[p]) : CompareWithNaNLargest(row[p], row[q]);
                return byValue != 0 ? byValue : p.CompareTo(q);
            });
            for (var t = 0; t < k; t++)
            {
                hv[lanesV.Offset + t * values.Strides[last]] = row[order[t]];
                hi[lanesI.Offset + t * indices.Strides[last]] = order[t];
            }
        }
    }

    /// <summary>Orders numbers ascending with every NaN above +∞ (NaNs equal to each other; −0 equals +0).</summary>
    private static int CompareWithNaNLargest(double v, double w)
    {
        bool nanV = double.IsNaN(v), nanW = double.IsNaN(w);
        if (nanV || nanW)
            return nanV == nanW ? 0 : nanV ? 1 : -1;
        return v < w ? -1 : v > w ? 1 : 0;
    }

    /// <summary>
    /// For gather/scatter_add: index has the rank of <paramref name="other"/> and is no larger than it in every
    /// dimension except <paramref name="axis"/> (pass -1 to check every dimension).
    /// </summary>
    private static void RequireIndexLike(string op, in TensorView other, int axis, in TensorView index, string role)
    {
        if (index.Rank != other.Rank)
            throw new ShapeMismatchException(op, other.Shape, index.Shape, $"the index must have the rank of {role}");
        for (var d = 0; d < index.Rank; d++)
        {
            if (d != axis && index.Shape.Dims[d] > other.Shape.Dims[d])
                throw new ShapeMismatchException(op, other.Shape, index.Shape,
                    $"the index is larger than {role} in dimension {d}");
        }
    }

    /// <summary>
    /// The index values in row-major order, each checked to lie in [0, <paramref name="size"/>) (else
    /// <see cref="TensorIndexException"/> naming the op, the value, the size and the axis).
    /// </summary>
    private static int[] ReadIndices(HostView index, long size, int axis, string op)
    {
        var values = new int[index.NumElements];
        var walk = index.Walk();
        while (walk.MoveNext())
        {
            var value = (int)index[walk.Offset];
            RequireIndex(op, value, size, axis);
            values[walk.Position] = value;
        }
        return values;
    }
}
