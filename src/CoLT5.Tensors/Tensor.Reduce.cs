// Reductions along an axis (sum, mean, max, min, logsumexp, argmax) and over all elements, with their backwards.
using System;
using CoLT5.Tensors.Autograd;
using CoLT5.Tensors.Backends;

namespace CoLT5.Tensors;

public sealed partial class Tensor
{
    /// <summary>Sum along <paramref name="axis"/>.</summary>
    public Tensor Sum(int axis, bool keepDim = false) => Reduce(ReduceOp.Sum, axis, keepDim, "sum");

    /// <summary>Sum of all elements (a 0-d tensor).</summary>
    public Tensor Sum() => ReduceAll(ReduceOp.Sum, "sum");

    /// <summary>Mean along <paramref name="axis"/>.</summary>
    public Tensor Mean(int axis, bool keepDim = false) => Reduce(ReduceOp.Mean, axis, keepDim, "mean");

    /// <summary>Mean of all elements (a 0-d tensor).</summary>
    public Tensor Mean() => ReduceAll(ReduceOp.Mean, "mean");

    /// <summary>log Σ e^x along <paramref name="axis"/>, computed stably.</summary>
    public Tensor LogSumExp(int axis, bool keepDim = false) => Reduce(ReduceOp.LogSumExp, axis, keepDim, "logsumexp");

    /// <summary>Maximum along <paramref name="axis"/>; the gradient goes to the first maximal element.</summary>
    public Tensor Max(int axis, bool keepDim = false) => ReduceWithIndex(ReduceOp.Max, axis, keepDim, "max").Values;

    /// <summary>Minimum along <paramref name="axis"/>; the gradient goes to the first minimal element.</summary>
    public Tensor Min(int axis, bool keepDim = false) => ReduceWithIndex(ReduceOp.Min, axis, keepDim, "min").Values;

    /// <summary>Maximum along an axis with the (int32) index of the first maximal element.</summary>
    public (Tensor Values, Tensor Indices) MaxWithIndex(int axis, bool keepDim = false) =>
        ReduceWithIndex(ReduceOp.Max, axis, keepDim, "max");

    /// <summary>Index (int32) of the first maximal element along <paramref name="axis"/>.</summary>
    public Tensor ArgMax(int axis, bool keepDim = false)
    {
        var (values, indices) = ReduceWithIndex(ReduceOp.Max, axis, keepDim, "argmax", record: false);
        values.Dispose();
        return indices;
    }

    private Tensor Reduce(ReduceOp op, int axis, bool keepDim, string name)
    {
        RequireFloat(name);
        var a = Shape.NormalizeAxis(axis, name);
        var kept = Shape.With(a, 1);
        var y = Empty(Backend, kept, DType);
        Backend.Reduce(op, View, a, y.View);
        if (Recording(this))
            y.Attach(new ReduceBackward(op, this, y, a));
        if (keepDim)
            return y;
        using (y)
            return y.Squeeze(a);
    }

    private Tensor ReduceAll(ReduceOp op, string name)
    {
        using var flat = Reshape(-1);
        return flat.Reduce(op, 0, keepDim: false, name);
    }

    private (Tensor Values, Tensor Indices) ReduceWithIndex(ReduceOp op, int axis, bool keepDim, string name,
        bool record = true)
    {
        RequireFloat(name);
        var a = Shape.NormalizeAxis(axis, name);
        if (Shape[a] == 0)
            throw new InvalidShapeException(name, Shape, $"axis {axis} is empty, so it has no {name}");
        var kept = Shape.With(a, 1);
        var values = Empty(Backend, kept, DType);
        var indices = Empty(Backend, kept, DType.Int32);
        Backend.ReduceWithIndex(op, View, a, values.View, indices.View);
        if (record && Recording(this))
            values.Attach(new IndexedReadBackward(this, indices, a, indexIsVector: false));
        if (keepDim)
            return (values, indices);
        using (values)
        using (indices)
            return (values.Squeeze(a), indices.Squeeze(a));
    }

    private sealed class ReduceBackward : GradFn
    {
        private readonly ReduceOp op;
        private readonly Shape shape;
        private readonly int axis;
        private readonly Tensor? x, y;

        public ReduceBackward(ReduceOp op, Tensor x, Tensor y, int axis) : base(x)
        {
            this.op = op;
            this.axis = axis;
            shape = x.Shape;
            Name = op.ToString().ToLowerInvariant() + "_backward";
            if (op == ReduceOp.LogSumExp)
            {
                this.x = Save(x);
                this.y = Save(y);
            }
            else if (op is not (ReduceOp.Sum or ReduceOp.Mean))
            {
                throw new NotSupportedException($"no backward for reduction {op}");
            }
        }

        public override string Name { get; }

        // grad has the kept shape (axis of size 1).
        public override Tensor?[] Backward(Tensor grad) => op switch
        {
            ReduceOp.Sum => [grad.Expand(shape.ToArray())],
            ReduceOp.Mean => [ScaledExpand(grad, 1.0 / shape[axis])],
            _ => [(x! - y!).Exp() * grad],   // d lse / dx = softmax(x) = e^(x - lse)
        };

        private Tensor ScaledExpand(Tensor grad, double scale)
        {
            using var scaled = grad * scale;
            return scaled.Expand(shape.ToArray());
        }
    }
}
