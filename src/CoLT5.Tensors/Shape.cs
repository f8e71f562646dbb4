// A tensor's dimensions: rank, element count, axis normalisation and the numpy broadcasting rule.
using System;
using System.Linq;
using System.Text;

namespace CoLT5.Tensors;

/// <summary>Immutable tensor dimensions. The default value is the shape of a 0-d scalar.</summary>
public readonly struct Shape : IEquatable<Shape>
{
    private readonly int[]? dims;

    /// <summary>Creates a shape; every dimension must be non-negative.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public Shape(params ReadOnlySpan<int> dims)
    {
        foreach (var d in dims)
        {
            if (d < 0)
                throw new ArgumentOutOfRangeException(nameof(dims), $"negative dimension in shape {Format(dims)}");
        }
        this.dims = dims.Length == 0 ? null : dims.ToArray();
    }

    private Shape(int[] owned, bool _) => dims = owned.Length == 0 ? null : owned;

    /// <summary>Wraps an array the caller promises never to mutate again (no copy).</summary>
    internal static Shape Own(int[] dims) => new(dims, true);

    /// <summary>The 0-d scalar shape ().</summary>
    public static Shape Scalar => default;

    /// <summary>Number of dimensions.</summary>
    public int Rank => dims?.Length ?? 0;

    /// <summary>Size of dimension <paramref name="axis"/> (negative counts from the end).</summary>
    public int this[int axis] => Dims[axis < 0 ? axis + Rank : axis];

    /// <summary>Size of the dimension at an index from the start or the end (<c>shape[^1]</c>).</summary>
    public int this[Index axis] => Dims[axis];

    /// <summary>The dimensions as a span.</summary>
    public ReadOnlySpan<int> Dims => dims;

    /// <summary>Total number of elements (1 for a scalar).</summary>
    /// <exception cref="OverflowException">The product does not fit in 63 bits.</exception>
    public long NumElements
    {
        get
        {
            long n = 1;
            foreach (var d in Dims)
                n = checked(n * d);
            return n;
        }
    }

    /// <summary>The last dimension (1 for a scalar).</summary>
    public int Last => Rank == 0 ? 1 : Dims[^1];

    /// <summary>Maps a possibly negative axis into [0, rank), or throws naming the op and the shape.</summary>
    /// <exception cref="AxisException">The axis is outside [-rank, rank).</exception>
    public int NormalizeAxis(int axis, string op, int extraRank = 0)
    {
        var rank = Rank + extraRank;
        var a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank)
            throw new AxisException(op, axis, this, extraRank);
        return a;
    }

    /// <summary>The numpy broadcast of two shapes: trailing dimensions align, size 1 stretches.</summary>
    /// <exception cref="ShapeMismatchException">Some aligned pair differs and neither is 1.</exception>
    public static Shape Broadcast(Shape a, Shape b, string op)
    {
        if (a.Equals(b))
            return a;
        var rank = Math.Max(a.Rank, b.Rank);
        var result = new int[rank];
        for (var i = 0; i < rank; i++)
        {
            var da = i < rank - a.Rank ? 1 : a.Dims[i - (rank - a.Rank)];
            var db = i < rank - b.Rank ? 1 : b.Dims[i - (rank - b.Rank)];
            if (da != db && da != 1 && db != 1)
                throw new ShapeMismatchException(op, a, b,
                    $"dimension {i - rank} is {da} in one and {db} in the other, and neither is 1");
            result[i] = da == 1 ? db : da;
        }
        return Own(result);
    }

    /// <summary>A copy with one dimension replaced.</summary>
    public Shape With(int axis, int size)
    {
        var copy = Dims.ToArray();
        copy[axis] = size;
        return Own(copy);
    }

    /// <summary>A copy with the dimension at <paramref name="axis"/> removed.</summary>
    public Shape Without(int axis)
    {
        var copy = new int[Rank - 1];
        for (int i = 0, j = 0; i < Rank; i++)
        {
            if (i != axis)
                copy[j++] = Dims[i];
        }
        return Own(copy);
    }

    /// <summary>A copy with a dimension of <paramref name="size"/> inserted before <paramref name="axis"/>.</summary>
    public Shape Insert(int axis, int size)
    {
        var copy = new int[Rank + 1];
        for (int i = 0, j = 0; i < copy.Length; i++)
            copy[i] = i == axis ? size : Dims[j++];
        return Own(copy);
    }

    /// <summary>Product of the dimensions in [start, end).</summary>
    public long Product(int start, int end)
    {
        long n = 1;
        for (var i = start; i < end; i++)
            n = checked(n * Dims[i]);
        return n;
    }

    /// <summary>The dimensions as a fresh array.</summary>
    public int[] ToArray() => Dims.ToArray();

    /// <inheritdoc/>
    public bool Equals(Shape other) => Dims.SequenceEqual(other.Dims);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var d in Dims)
            h.Add(d);
        return h.ToHashCode();
    }

    /// <summary>Shape equality.</summary>
    public static bool operator ==(Shape left, Shape right) => left.Equals(right);

    /// <summary>Shape inequality.</summary>
    public static bool operator !=(Shape left, Shape right) => !left.Equals(right);

    /// <summary>Converts an array of dimensions to a shape.</summary>
    public static implicit operator Shape(int[] dims) => new(dims);

    /// <summary>Formats as "(2, 3, 4)"; a scalar is "()".</summary>
    public override string ToString() => Format(Dims);

    internal static string Format(ReadOnlySpan<int> dims)
    {
        var sb = new StringBuilder("(");
        for (var i = 0; i < dims.Length; i++)
        {
            if (i > 0)
                sb.Append(", ");
            sb.Append(dims[i]);
        }
        return sb.Append(')').ToString();
    }
}
