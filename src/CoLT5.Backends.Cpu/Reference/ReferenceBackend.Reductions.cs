// Reductions along one axis (sum, mean, max, min, logsumexp, and max/min with the first extreme index), plus the
// row helpers the fused NN kernels share: read a lane, its compensated sum, its extreme and its logsumexp.
using System;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Cpu.Reference;

public sealed partial class ReferenceBackend
{
    /// <summary>
    /// Reduces every lane of x along <paramref name="axis"/>. An empty axis gives Sum 0, Mean NaN (0/0) and
    /// LogSumExp −∞, and is an error for Max and Min. Max and Min return NaN if the lane holds a NaN.
    /// </summary>
    public void Reduce(ReduceOp op, in TensorView x, int axis, in TensorView y)
    {
        const string name = "reduce";
        var hx = Host(x, name, "x");
        var hy = Host(y, name, "y");
        RequireFloat(name, "x", x);
        RequireSameDType(name, "y", y, x);
        var a = x.Shape.NormalizeAxis(axis, name);
        RequireShape(name, "y", y, x.Shape.With(a, 1));
        var length = x.Shape.Dims[a];
        if (length == 0 && op is (ReduceOp.Max or ReduceOp.Min))
            throw new InvalidShapeException(name, x.Shape, $"axis {a} is empty, so it has no {op}");

        var lanes = StridedIndex.Lanes(x, a);
        var walkY = hy.Walk();
        while (walkY.MoveNext() && lanes.MoveNext())
        {
            var lane = ReadLane(hx, lanes.Offset, x.Strides[a], length);
            hy[walkY.Offset] = op switch
            {
                ReduceOp.Sum => Sum(lane),
                ReduceOp.Mean => Sum(lane) / length,
                ReduceOp.Max or ReduceOp.Min => lane[FirstExtreme(lane, op)],
                ReduceOp.LogSumExp => LogSumExp(lane),
                _ => throw new ArgumentOutOfRangeException(nameof(op), op, "unknown reduction"),
            };
        }
    }

    /// <summary>
    /// Max or min with the index of the first extreme element along the axis; a NaN counts as the extreme (the
    /// first NaN wins), as in PyTorch. The axis must not be empty.
    /// </summary>
    public void ReduceWithIndex(ReduceOp op, in TensorView x, int axis, in TensorView values, in TensorView indices)
    {
        const string name = "reduce_with_index";
        var hx = Host(x, name, "x");
        var hv = Host(values, name, "values");
        var hi = Host(indices, name, "indices");
        RequireFloat(name, "x", x);
        RequireSameDType(name, "values", values, x);
        RequireDType(name, "indices", indices, DType.Int32);
        if (op is not (ReduceOp.Max or ReduceOp.Min))
            throw new ArgumentOutOfRangeException(nameof(op), op, "only Max and Min have an index");
        var a = x.Shape.NormalizeAxis(axis, name);
        RequireShape(name, "values", values, x.Shape.With(a, 1));
        RequireShape(name, "indices", indices, x.Shape.With(a, 1));
        var length = x.Shape.Dims[a];
        if (length == 0)
            throw new InvalidShapeException(name, x.Shape, $"axis {a} is empty, so it has no {op}");

        var lanes = StridedIndex.Lanes(x, a);
        var walkV = hv.Walk();
        var walkI = hi.Walk();
        while (walkV.MoveNext() && walkI.MoveNext() && lanes.MoveNext())
        {
            var lane = ReadLane(hx, lanes.Offset, x.Strides[a], length);
            var best = FirstExtreme(lane, op);
            hv[walkV.Offset] = lane[best];
            hi[walkI.Offset] = best;
        }
    }

    /// <summary>The <paramref name="length"/> elements start, start + stride, ... as doubles.</summary>
    internal static double[] ReadLane(HostView view, long start, long stride, int length)
    {
        var lane = new double[length];
        for (var j = 0; j < length; j++)
            lane[j] = view[start + j * stride];
        return lane;
    }

    /// <summary>Compensated sum of the values (0 for none).</summary>
    internal static double Sum(ReadOnlySpan<double> values)
    {
        var sum = new NeumaierSum();
        foreach (var v in values)
            sum.Add(v);
        return sum.Value;
    }

    /// <summary>
    /// Index of the first maximum (<see cref="ReduceOp.Max"/>) or minimum (<see cref="ReduceOp.Min"/>) of a
    /// non-empty lane; the first NaN beats every number.
    /// </summary>
    internal static int FirstExtreme(ReadOnlySpan<double> values, ReduceOp op)
    {
        var best = 0;
        for (var j = 1; j < values.Length; j++)
        {
            if (double.IsNaN(values[best]))
                break;
            var v = values[j];
            if (double.IsNaN(v) || (op == ReduceOp.Max ? v > values[best] : v < values[best]))
                best = j;
        }
        return best;
    }

    /// <summary>
    /// log Σ e^v computed as m + log Σ e^(v − m) with m = max v. No values or all −∞ give −∞; a +∞ gives +∞; a NaN
    /// gives NaN.
    /// </summary>
    internal static double LogSumExp(ReadOnlySpan<double> values)
    {
        if (values.Length == 0)
            return double.NegativeInfinity;
        var m = values[FirstExtreme(values, ReduceOp.Max)];
        if (double.IsNaN(m) || double.IsInfinity(m))
            return m;
        var sum = new NeumaierSum();
        foreach (var v in values)
            sum.Add(Math.Exp(v - m));
        return m + Math.Log(sum.Value);
    }
}
