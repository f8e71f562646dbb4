// Index-driven ops: gather / scatter-add, index-select / index-add, embedding lookup and top-k, with backwards.
using System;
using System.Linq;
using CoLT5.Tensors.Autograd;

namespace CoLT5.Tensors;

public sealed partial class Tensor
{
    /// <summary>torch.gather: y[..i..] = x[..index[..i..]..] along <paramref name="axis"/>; y has index's shape.
    /// Index must be int32 with the same rank and no larger than x on the other axes.</summary>
    public Tensor Gather(int axis, Tensor index)
    {
        const string name = "gather";
        var a = CheckIndexLike(name, axis, index);
        var y = Empty(Backend, index.Shape, DType);
        Backend.Gather(View, a, index.View, y.View);
        return Recording(this) ? y.Attach(new IndexedReadBackward(this, index, a, indexIsVector: false)) : y;
    }

    /// <summary>torch.scatter_add (out of place): a copy of this with source[..i..] added at
    /// [..index[..i..]..] along <paramref name="axis"/>; repeated indices accumulate.</summary>
    public Tensor ScatterAdd(int axis, Tensor index, Tensor source)
    {
        const string name = "scatter_add";
        var a = CheckIndexLike(name, axis, index);
        SameBackend(name, this, source);
        SameDType(name, this, source);
        if (source.Rank != Rank || Enumerable.Range(0, Rank).Any(d => index.Shape[d] > source.Shape[d]))
            throw new ShapeMismatchException(name, index.Shape, source.Shape,
                "index must not be larger than source in any dimension");
        var y = ContiguousCopy();
        Backend.ScatterAdd(y.View, a, index.View, source.View);
        return Recording(this, source) ? y.Attach(new ScatterAddBackward(this, index, source, a)) : y;
    }

    /// <summary>torch.index_select: the slices at the 1-D int32 <paramref name="index"/> along
    /// <paramref name="axis"/>.</summary>
    public Tensor IndexSelect(int axis, Tensor index)
    {
        const string name = "index_select";
        var a = CheckIndexVector(name, axis, index);
        var y = Empty(Backend, Shape.With(a, index.Shape[0]), DType);
        Backend.IndexSelect(View, a, index.View, y.View);
        return Recording(this) ? y.Attach(new IndexedReadBackward(this, index, a, indexIsVector: true)) : y;
    }

    /// <summary>torch.index_add (out of place): a copy of this with source's slices added at the 1-D int32
    /// <paramref name="index"/> along <paramref name="axis"/>.</summary>
    public Tensor IndexAdd(int axis, Tensor index, Tensor source)
    {
        const string name = "index_add";
        var a = CheckIndexVector(name, axis, index);
        SameBackend(name, this, source);
        SameDType(name, this, source);
        if (source.Shape != Shape.With(a, index.Shape[0]))
            throw new ShapeMismatchException(name, Shape, source.Shape,
                $"source must have shape {Shape.With(a, index.Shape[0])} for {index.Shape[0]} indices on axis {axis}");
        var y = ContiguousCopy();
        Backend.IndexAdd(y.View, a, index.View, source.View);
        return Recording(this, source) ? y.Attach(new IndexAddBackward(this, index, source, a)) : y;
    }

    /// <summary>Embedding lookup: weight (V, D) rows at int32 ids of any shape → (ids..., D).</summary>
    public static Tensor Embedding(Tensor weight, Tensor ids)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(ids);
        if (weight.Rank != 2)
            throw new InvalidShapeException("embedding", weight.Shape, "the weight must be (vocab, dim)");
        using var flat = ids.Reshape(-1);
        using var rows = weight.IndexSelect(0, flat);
        return rows.Reshape([.. ids.Shape.Dims, weight.Shape[1]]);
    }

    /// <summary>The k largest (or smallest) values along the last axis, sorted, with int32 indices; ties go to
    /// the lower index. The gradient flows to the selected positions.</summary>
    public (Tensor Values, Tensor Indices) TopK(int k, bool largest = true)
    {
        const string name = "topk";
        RequireFloat(name);
        if (Rank == 0)
            throw new InvalidShapeException(name, Shape, "needs at least one dimension");
        if (k < 0 || k > Shape[^1])
            throw new InvalidShapeException(name, Shape, $"k = {k} must lie in [0, {Shape[^1]}]");
        using var dense = IsContiguous ? Alias() : ContiguousCopy();
        var values = Empty(Backend, Shape.With(Rank - 1, k), DType);
        var indices = Empty(Backend, Shape.With(Rank - 1, k), DType.Int32);
        Backend.TopK(dense.View, k, largest, values.View, indices.View);
        if (Recording(this))
            values.Attach(new IndexedReadBackward(this, indices, Rank - 1, indexIsVector: false));
        return (values, indices);
    }

    private int CheckIndexLike(string op, int axis, Tensor index)
    {
        ArgumentNullException.ThrowIfNull(index);
        SameBackend(op, this, index);
        if (index.DType != DType.Int32)
            throw new DTypeMismatchException(op, $"the index must be int32, not {index.DType.Name()}");
        var a = Shape.NormalizeAxis(axis, op);
        if (index.Rank != Rank)
            throw new ShapeMismatchException(op, Shape, index.Shape, "the index must have the tensor's rank");
        for (var d = 0; d < Rank; d++)
        {
            if (d != a && index.Shape[d] > Shape[d])
                throw new ShapeMismatchException(op, Shape, index.Shape,
                    $"the index is larger than the tensor in dimension {d}");
        }
        return a;
    }

    private int CheckIndexVector(string op, int axis, Tensor index)
    {
        ArgumentNullException.ThrowIfNull(index);
        SameBackend(op, this, index);
        if (index.DType != DType.Int32)
            throw new DTypeMismatchException(op, $"the index must be int32, not {index.DType.Name()}");
        if (index.Rank != 1)
            throw new InvalidShapeException(op, index.Shape, "the index must be 1-D");
        return Shape.NormalizeAxis(axis, op);
    }

    /// <summary>
    /// Backward of every op that reads x at indexed positions (gather, max/min/top-k selections, index-select):
    /// the gradient is scattered back, accumulating over repeated indices, into zeros of x's shape.
    /// </summary>
    private sealed class IndexedReadBackward : GradFn
    {
        private readonly Tensor index;
        private readonly Shape shape;
        private readonly int axis;
        private readonly bool indexIsVector;

        // indexIsVector: true for index-select (1-D index, undone by index-add), false for gather-like ops (an
        // index of the output's shape, undone by scatter-add).
        public IndexedReadBackward(Tensor x, Tensor index, int axis, bool indexIsVector) : base(x)
        {
            this.index = Save(index);
            shape = x.Shape;
            this.axis = axis;
            this.indexIsVector = indexIsVector;
        }

        public override Tensor?[] Backward(Tensor grad)
        {
            var dx = Zeros(shape, grad.DType, grad.Device);
            if (indexIsVector)
                dx.Backend.IndexAdd(dx.View, axis, index.View, grad.View);
            else
                dx.Backend.ScatterAdd(dx.View, axis, index.View, grad.View);
            return [dx];
        }
    }

    private sealed class ScatterAddBackward : GradFn
    {
        private readonly Tensor index;
        private readonly Shape sourceShape;
        private readonly int axis;

        public ScatterAddBackward(Tensor x, Tensor index, Tensor source, int axis) : base(x, source)
        {
            this.index = Save(index);
            sourceShape = source.Shape;
            this.axis = axis;
        }

        public override Tensor?[] Backward(Tensor grad)
        {
            Tensor? gs = null;
            if (NeedsGrad(1))
            {
                // Positions of source beyond the index's extent receive no gradient.
                gs = Zeros(sourceShape, grad.DType, grad.Device);
                using var window = gs.ViewAs(index.Shape, gs.strides, 0);
                grad.Backend.Gather(grad.View, axis, index.View, window.View);
            }
            return [NeedsGrad(0) ? grad : null, gs];
        }
    }

    private sealed class IndexAddBackward : GradFn
    {
        private readonly Tensor index;
        private readonly int axis;

        public IndexAddBackward(Tensor x, Tensor index, Tensor source, int axis) : base(x, source)
        {
            this.index = Save(index);
            this.axis = axis;
        }

        public override Tensor?[] Backward(Tensor grad) =>
            [NeedsGrad(0) ? grad : null, NeedsGrad(1) ? grad.IndexSelect(axis, index) : null];
    }
}
