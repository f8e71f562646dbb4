// Layout ops: reshape, permute/transpose, narrow/select, expand/broadcast, squeeze/unsqueeze, contiguous, cat/stack,
// split/chunk and device moves. Views share storage; each records a backward that undoes the movement.
using System;
using System.Collections.Generic;
using System.Linq;
using CoLT5.Tensors.Autograd;
using CoLT5.Tensors.Backends;

namespace CoLT5.Tensors;

public sealed partial class Tensor
{
    // ---- reshape family ------------------------------------------------------------------------------------

    /// <summary>Same elements, new shape (one dimension may be -1). A view when the layout allows, else a copy.</summary>
    /// <exception cref="InvalidShapeException">The element counts differ or -1 is ambiguous.</exception>
    public Tensor Reshape(params int[] shape)
    {
        var target = InferShape(shape, "reshape");
        Tensor y;
        var viewStrides = ViewStrides(Shape.Dims, strides, target.Dims);
        if (viewStrides is not null)
        {
            y = ViewAs(target, viewStrides, offset);
        }
        else
        {
            using var dense = ContiguousCopy();
            y = dense.ViewAs(target, TensorView.ContiguousStrides(target), 0);
        }
        return Recording(this) ? y.Attach(new ReshapeBackward(this)) : y;
    }

    /// <summary>Reshape to the given shape.</summary>
    public Tensor Reshape(Shape shape) => Reshape(shape.ToArray());

    /// <summary>Merges dimensions [start, end] into one.</summary>
    public Tensor Flatten(int start = 0, int end = -1)
    {
        if (Rank == 0)
            return Reshape(1);
        var s = Shape.NormalizeAxis(start, "flatten");
        var e = Shape.NormalizeAxis(end, "flatten");
        if (e < s)
            throw new TensorException("flatten", $"end axis {end} comes before start axis {start} in shape {Shape}");
        var dims = new List<int>();
        for (var i = 0; i < s; i++)
            dims.Add(Shape[i]);
        dims.Add(checked((int)Shape.Product(s, e + 1)));
        for (var i = e + 1; i < Rank; i++)
            dims.Add(Shape[i]);
        return Reshape([.. dims]);
    }

    /// <summary>Inserts a dimension of size 1 before <paramref name="axis"/> (view).</summary>
    public Tensor Unsqueeze(int axis)
    {
        var a = Shape.NormalizeAxis(axis, "unsqueeze", extraRank: 1);
        var newStrides = new long[Rank + 1];
        for (int i = 0, j = 0; i <= Rank; i++)
            newStrides[i] = i == a ? (a < Rank ? strides[a] * Shape[a] : 1) : strides[j++];
        var y = ViewAs(Shape.Insert(a, 1), newStrides, offset);
        return Recording(this) ? y.Attach(new ReshapeBackward(this)) : y;
    }

    /// <summary>Removes dimension <paramref name="axis"/>, which must have size 1 (view).</summary>
    public Tensor Squeeze(int axis)
    {
        var a = Shape.NormalizeAxis(axis, "squeeze");
        if (Shape[a] != 1)
            throw new InvalidShapeException("squeeze", Shape, $"axis {axis} has size {Shape[a]}, not 1");
        var newStrides = new long[Rank - 1];
        for (int i = 0, j = 0; i < Rank; i++)
        {
            if (i != a)
                newStrides[j++] = strides[i];
        }
        var y = ViewAs(Shape.Without(a), newStrides, offset);
        return Recording(this) ? y.Attach(new ReshapeBackward(this)) : y;
    }

    private sealed class ReshapeBackward(Tensor x) : GradFn(x)
    {
        private readonly Shape shape = x.Shape;

        public override Tensor?[] Backward(Tensor grad) => [grad.Reshape(shape)];
    }

    // ---- permutations --------------------------------------------------------------------------------------

    /// <summary>Reorders dimensions: result dimension i is input dimension dims[i] (view).</summary>
    public Tensor Permute(params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        if (dims.Length != Rank)
            throw new InvalidShapeException("permute", Shape, $"permutation [{string.Join(", ", dims)}] " +
                $"has {dims.Length} entries for rank {Rank}");
        var seen = new bool[Rank];
        var newDims = new int[Rank];
        var newStrides = new long[Rank];
        for (var i = 0; i < Rank; i++)
        {
            var d = Shape.NormalizeAxis(dims[i], "permute");
            if (seen[d])
                throw new TensorException("permute", $"axis {dims[i]} appears twice in [{string.Join(", ", dims)}]");
            seen[d] = true;
            dims[i] = d;
            newDims[i] = Shape[d];
            newStrides[i] = strides[d];
        }
        var y = ViewAs(Shape.Own(newDims), newStrides, offset);
        return Recording(this) ? y.Attach(new PermuteBackward(this, dims)) : y;
    }

    /// <summary>Swaps two dimensions (view).</summary>
    public Tensor Transpose(int axis0, int axis1)
    {
        var a = Shape.NormalizeAxis(axis0, "transpose");
        var b = Shape.NormalizeAxis(axis1, "transpose");
        var perm = new int[Rank];
        for (var i = 0; i < Rank; i++)
            perm[i] = i;
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return Permute(perm);
    }

    /// <summary>The transpose of a 2-D tensor (or of the last two dimensions).</summary>
    public Tensor MT => Rank < 2
        ? throw new InvalidShapeException("transpose", Shape, "needs at least 2 dimensions")
        : Transpose(-2, -1);

    private sealed class PermuteBackward : GradFn
    {
        private readonly int[] inverse;

        public PermuteBackward(Tensor x, int[] perm) : base(x)
        {
            inverse = new int[perm.Length];
            for (var i = 0; i < perm.Length; i++)
                inverse[perm[i]] = i;
        }

        public override Tensor?[] Backward(Tensor grad) => [grad.Permute((int[])inverse.Clone())];
    }

    // ---- slicing -------------------------------------------------------------------------------------------

    /// <summary>Elements [start, start + length) along <paramref name="axis"/> (view).</summary>
    public Tensor Narrow(int axis, int start, int length)
    {
        var a = Shape.NormalizeAxis(axis, "narrow");
        if (start < 0 || length < 0 || start + (long)length > Shape[a])
            throw new TensorException("narrow", $"range [{start}, {start + (long)length}) is outside axis {axis} " +
                $"of size {Shape[a]} in shape {Shape}");
        var y = ViewAs(Shape.With(a, length), strides, offset + start * strides[a]);
        return Recording(this) ? y.Attach(new NarrowBackward(this, a, start)) : y;
    }

    /// <summary>The slice at <paramref name="index"/> along <paramref name="axis"/>, with that axis removed.</summary>
    public Tensor Select(int axis, int index)
    {
        var a = Shape.NormalizeAxis(axis, "select");
        using var narrowed = Narrow(a, index < 0 ? index + Shape[a] : index, 1);
        return narrowed.Squeeze(a);
    }

    private sealed class NarrowBackward(Tensor x, int axis, int start) : GradFn(x)
    {
        private readonly Shape shape = x.Shape;

        public override Tensor?[] Backward(Tensor grad)
        {
            var dx = Zeros(shape, grad.DType, grad.Device);
            using var window = dx.ViewAs(grad.Shape, dx.strides, start * dx.strides[axis]);
            grad.Backend.Copy(grad.View, window.View);
            return [dx];
        }
    }

    /// <summary>Splits along <paramref name="axis"/> into pieces of the given sizes (views).</summary>
    public Tensor[] Split(int[] sizes, int axis)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        var a = Shape.NormalizeAxis(axis, "split");
        if (sizes.Sum() != Shape[a] || sizes.Any(s => s < 0))
            throw new TensorException("split", $"sizes [{string.Join(", ", sizes)}] do not add up to {Shape[a]} " +
                $"(axis {axis} of shape {Shape})");
        var pieces = new Tensor[sizes.Length];
        var start = 0;
        for (var i = 0; i < sizes.Length; i++)
        {
            pieces[i] = Narrow(a, start, sizes[i]);
            start += sizes[i];
        }
        return pieces;
    }

    /// <summary>Splits along <paramref name="axis"/> into pieces of <paramref name="size"/> (the last may be
    /// shorter), as torch.split with an int.</summary>
    public Tensor[] Split(int size, int axis)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        var n = Shape[Shape.NormalizeAxis(axis, "split")];
        var sizes = new List<int>();
        for (var s = 0; s < n; s += size)
            sizes.Add(Math.Min(size, n - s));
        return Split([.. sizes], axis);
    }

    /// <summary>Splits into <paramref name="chunks"/> nearly equal pieces along <paramref name="axis"/>.</summary>
    public Tensor[] Chunk(int chunks, int axis)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunks);
        var n = Shape[Shape.NormalizeAxis(axis, "chunk")];
        return Split(Math.Max(1, (n + chunks - 1) / chunks), axis);
    }

    // ---- broadcasting ---------------------------------------------------------------------------------------

    /// <summary>Broadcasts to <paramref name="shape"/> without copying (stride 0 on stretched dimensions);
    /// -1 keeps a dimension.</summary>
    public Tensor Expand(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var dims = (int[])shape.Clone();
        for (var i = 0; i < dims.Length; i++)
        {
            var j = i - (dims.Length - Rank);
            if (dims[i] == -1)
                dims[i] = j >= 0 ? Shape[j] : throw new InvalidShapeException("expand", Shape,
                    $"-1 is not allowed for a new leading dimension in {Shape.Format(shape)}");
        }
        var target = Shape.Own(dims);
        var view = BroadcastView(target, "expand");
        var y = ViewAs(target, view.Strides, offset);
        return Recording(this) ? y.Attach(new ExpandBackward(this)) : y;
    }

    /// <summary>Broadcasts to the shape of <paramref name="other"/>.</summary>
    public Tensor ExpandAs(Tensor other) => Expand(other.Shape.ToArray());

    private sealed class ExpandBackward(Tensor x) : GradFn(x)
    {
        private readonly Shape shape = x.Shape;

        public override Tensor?[] Backward(Tensor grad) => [grad.SumTo(shape)];
    }

    /// <summary>The kernel view of this tensor broadcast to <paramref name="target"/> (zero strides).</summary>
    internal TensorView BroadcastView(Shape target, string op)
    {
        if (target == Shape)
            return View;
        if (Rank > target.Rank)
            throw new ShapeMismatchException(op, Shape, target, "cannot broadcast to a lower rank");
        var lead = target.Rank - Rank;
        var newStrides = new long[target.Rank];
        for (var i = lead; i < target.Rank; i++)
        {
            var d = Shape[i - lead];
            if (d == target[i])
                newStrides[i] = strides[i - lead];
            else if (d != 1)
                throw new ShapeMismatchException(op, Shape, target, $"dimension {i - target.Rank} is {d}, " +
                    $"which cannot stretch to {target[i]}");
        }
        return new TensorView(View.Buffer, target, newStrides, offset);
    }

    /// <summary>Sums a broadcast gradient back to <paramref name="target"/> (the inverse of broadcasting).</summary>
    public Tensor SumTo(Shape target)
    {
        if (target == Shape)
            return Alias();
        var lead = Rank - target.Rank;
        if (lead < 0)
            throw new ShapeMismatchException("sum_to", Shape, target, "the target has a higher rank");
        Tensor current = Alias();
        if (lead > 0)
        {
            using var flat = current;
            using var merged = flat.Reshape([checked((int)Shape.Product(0, lead)), .. Shape.Dims[lead..]]);
            current = merged.Sum(0, keepDim: false);
        }
        for (var i = 0; i < target.Rank; i++)
        {
            if (target[i] == 1 && current.Shape[i] != 1)
            {
                using var previous = current;
                current = previous.Sum(i, keepDim: true);
            }
            else if (target[i] != current.Shape[i])
            {
                current.Dispose();
                throw new ShapeMismatchException("sum_to", Shape, target, $"dimension {i} cannot be reduced " +
                    $"from {Shape[i + lead]} to {target[i]}");
            }
        }
        return current;
    }

    // ---- copies --------------------------------------------------------------------------------------------

    /// <summary>This tensor with a dense row-major layout (a copy only when needed).</summary>
    public Tensor Contiguous()
    {
        var y = IsContiguous ? Alias() : ContiguousCopy();
        return Recording(this) ? y.Attach(new IdentityBackward(this)) : y;
    }

    /// <summary>A new contiguous copy (outside the graph).</summary>
    internal Tensor ContiguousCopy()
    {
        var y = Empty(Backend, Shape, DType);
        Backend.Copy(View, y.View);
        return y;
    }

    /// <summary>A copy on another device (an alias when already there).</summary>
    public Tensor To(Device device)
    {
        if (device == Device)
        {
            var same = Alias();
            return Recording(this) ? same.Attach(new IdentityBackward(this)) : same;
        }
        var target = BackendRegistry.Get(device);
        using var dense = IsContiguous ? Alias() : ContiguousCopy();
        var bytes = new byte[checked((int)(NumElements * DType.SizeOf()))];
        Backend.Download(dense.View.Buffer, dense.offset * DType.SizeOf(), bytes);
        var y = Empty(target, Shape, DType);
        target.Upload(bytes, y.View.Buffer, 0);
        return Recording(this) ? y.Attach(new ToDeviceBackward(this)) : y;
    }

    private sealed class IdentityBackward(Tensor x) : GradFn(x)
    {
        public override Tensor?[] Backward(Tensor grad) => [grad];
    }

    private sealed class ToDeviceBackward(Tensor x) : GradFn(x)
    {
        private readonly Device device = x.Device;

        public override Tensor?[] Backward(Tensor grad) => [grad.To(device)];
    }

    // ---- concatenation -------------------------------------------------------------------------------------

    /// <summary>Joins tensors along an existing axis; all other dimensions must match.</summary>
    public static Tensor Cat(IReadOnlyList<Tensor> tensors, int axis)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0)
            throw new TensorException("cat", "needs at least one tensor");
        var first = tensors[0];
        var a = first.Shape.NormalizeAxis(axis, "cat");
        var total = 0;
        foreach (var t in tensors)
        {
            SameBackend("cat", first, t);
            SameDType("cat", first, t);
            if (t.Rank != first.Rank)
                throw new ShapeMismatchException("cat", first.Shape, t.Shape, "ranks differ");
            for (var i = 0; i < t.Rank; i++)
            {
                if (i != a && t.Shape[i] != first.Shape[i])
                    throw new ShapeMismatchException("cat", first.Shape, t.Shape,
                        $"dimension {i} differs and only axis {axis} may");
            }
            total = checked(total + t.Shape[a]);
        }
        var y = Empty(first.Backend, first.Shape.With(a, total), first.DType);
        var start = 0;
        foreach (var t in tensors)
        {
            using var window = y.ViewAs(t.Shape, y.strides, start * y.strides[a]);
            y.Backend.Copy(t.View, window.View);
            start += t.Shape[a];
        }
        var inputs = tensors.ToArray();
        return Recording(inputs) ? y.Attach(new CatBackward(inputs, a)) : y;
    }

    /// <summary>Joins equally shaped tensors along a new axis.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int axis)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0)
            throw new TensorException("stack", "needs at least one tensor");
        var a = tensors[0].Shape.NormalizeAxis(axis, "stack", extraRank: 1);
        foreach (var t in tensors)
        {
            if (t.Shape != tensors[0].Shape)
                throw new ShapeMismatchException("stack", tensors[0].Shape, t.Shape, "stacked tensors must be equal");
        }
        var expanded = tensors.Select(t => t.Unsqueeze(a)).ToArray();
        try
        {
            return Cat(expanded, a);
        }
        finally
        {
            foreach (var t in expanded)
                t.Dispose();
        }
    }

    private sealed class CatBackward(Tensor[] inputs, int axis) : GradFn(inputs)
    {
        private readonly int[] sizes = inputs.Select(t => t.Shape[axis]).ToArray();

        public override Tensor?[] Backward(Tensor grad)
        {
            var grads = new Tensor?[sizes.Length];
            var start = 0;
            for (var i = 0; i < sizes.Length; i++)
            {
                if (NeedsGrad(i))
                {
                    using var piece = grad.Narrow(axis, start, sizes[i]);
                    grads[i] = piece.ContiguousCopy();
                }
                start += sizes[i];
            }
            return grads;
        }
    }

    // ---- shape helpers ---------------------------------------------------------------------------------------

    private Shape InferShape(int[] shape, string op)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var dims = (int[])shape.Clone();
        var infer = -1;
        long known = 1;
        for (var i = 0; i < dims.Length; i++)
        {
            if (dims[i] == -1)
            {
                if (infer >= 0)
                    throw new InvalidShapeException(op, Shape, $"target {Shape.Format(shape)} has more than one -1");
                infer = i;
            }
            else if (dims[i] < 0)
            {
                throw new InvalidShapeException(op, Shape, $"target {Shape.Format(shape)} has a negative size");
            }
            else
            {
                known = checked(known * dims[i]);
            }
        }
        if (infer >= 0)
        {
            if (known == 0 || NumElements % known != 0)
                throw new InvalidShapeException(op, Shape, $"cannot infer -1 in {Shape.Format(shape)} " +
                    $"from {NumElements} elements");
            dims[infer] = checked((int)(NumElements / known));
            known *= dims[infer];
        }
        if (known != NumElements)
            throw new InvalidShapeException(op, Shape, $"target {Shape.Format(shape)} has {known} elements, " +
                $"not {NumElements}");
        return Shape.Own(dims);
    }

    /// <summary>Strides that let <paramref name="newShape"/> view the same elements without a copy, or null.
    /// Walks the old dimensions from the innermost outwards in maximal runs that are contiguous with each other,
    /// and requires the new dimensions to tile each run exactly.</summary>
    internal static long[]? ViewStrides(ReadOnlySpan<int> oldShape, ReadOnlySpan<long> oldStrides,
        ReadOnlySpan<int> newShape)
    {
        var result = new long[newShape.Length];
        long numel = 1;
        foreach (var d in oldShape)
            numel *= d;
        if (numel == 0 || oldShape.Length == 0)
        {
            long s = 1;
            for (var i = newShape.Length - 1; i >= 0; i--)
            {
                result[i] = s;
                s *= Math.Max(newShape[i], 1);
            }
            return result;
        }
        var viewDim = newShape.Length - 1;
        var runBaseStride = oldStrides[^1];
        long runNumel = 1, viewNumel = 1;
        for (var d = oldShape.Length - 1; d >= 0; d--)
        {
            runNumel *= oldShape[d];
            var runEnds = d == 0 || (oldShape[d - 1] != 1 && oldStrides[d - 1] != runNumel * runBaseStride);
            if (!runEnds)
                continue;
            while (viewDim >= 0 && (viewNumel < runNumel || newShape[viewDim] == 1))
            {
                result[viewDim] = viewNumel * runBaseStride;
                viewNumel *= newShape[viewDim];
                viewDim--;
            }
            if (viewNumel != runNumel)
                return null;
            if (d > 0)
            {
                runBaseStride = oldStrides[d - 1];
                runNumel = 1;
                viewNumel = 1;
            }
        }
        return viewDim == -1 ? result : null;
    }
}
