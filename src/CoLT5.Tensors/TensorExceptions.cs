// Typed errors for bad tensor arguments. Every message names the op and the shapes (or dtypes, devices) involved.
using System;

namespace CoLT5.Tensors;

/// <summary>Base of every error an op raises for bad arguments; <see cref="Op"/> names the op.</summary>
public class TensorException : Exception
{
    /// <summary>Creates the error.</summary>
    public TensorException(string op, string message) : base($"{op}: {message}") => Op = op;

    /// <summary>Creates the error.</summary>
    public TensorException() : this("tensor", "invalid tensor operation") { }

    /// <summary>Creates the error.</summary>
    public TensorException(string message) : this("tensor", message) { }

    /// <summary>Creates the error.</summary>
    public TensorException(string message, Exception innerException) : base(message, innerException) => Op = "tensor";

    /// <summary>The op that refused its arguments.</summary>
    public string Op { get; }
}

/// <summary>Two shapes that an op needs to agree (broadcast, matmul inner dims, concat) do not.</summary>
public sealed class ShapeMismatchException : TensorException
{
    /// <summary>Creates the error for <paramref name="op"/> with the two offending shapes.</summary>
    public ShapeMismatchException(string op, Shape left, Shape right, string detail)
        : base(op, $"shapes {left} and {right} are incompatible: {detail}")
    {
        Left = left;
        Right = right;
    }

    /// <summary>The first shape.</summary>
    public Shape Left { get; }

    /// <summary>The second shape.</summary>
    public Shape Right { get; }
}

/// <summary>A tensor has a shape an op cannot accept (wrong rank, size, or element count).</summary>
public sealed class InvalidShapeException(string op, Shape shape, string detail)
    : TensorException(op, $"shape {shape} is invalid: {detail}")
{
    /// <summary>The offending shape.</summary>
    public Shape Shape { get; } = shape;
}

/// <summary>An axis argument is outside [-rank, rank).</summary>
public sealed class AxisException(string op, int axis, Shape shape, int extraRank = 0)
    : TensorException(op, $"axis {axis} is out of range for shape {shape} " +
        $"(valid axes are {-(shape.Rank + extraRank)}..{shape.Rank + extraRank - 1})")
{
    /// <summary>The offending axis.</summary>
    public int Axis { get; } = axis;
}

/// <summary>Tensors of different dtypes were mixed, or an op does not support a dtype.</summary>
public sealed class DTypeMismatchException(string op, string detail) : TensorException(op, detail);

/// <summary>Tensors on different devices were mixed.</summary>
public sealed class DeviceMismatchException(string op, Device left, Device right)
    : TensorException(op, $"tensors are on different devices: {left} and {right}; move one with To(device)");

/// <summary>An index tensor holds a value outside the indexed dimension.</summary>
public sealed class TensorIndexException(string op, long index, long size, int axis)
    : TensorException(op, $"index {index} is out of range for axis {axis} of size {size}");

/// <summary>Autograd was used in a way it cannot honour (graph already freed, in-place change of a saved tensor...).</summary>
public sealed class AutogradException(string op, string detail) : TensorException(op, detail);
