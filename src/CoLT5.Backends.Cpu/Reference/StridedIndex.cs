// Walks a strided view in row-major logical order, yielding each element's buffer offset and multi-index; plus the
// offset formula Offset + Σ index[k]·Strides[k] for an arbitrary multi-index.
using System;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Cpu.Reference;

/// <summary>
/// An odometer over a view's logical index space: after each successful <see cref="MoveNext"/>, <see cref="Index"/>
/// is the next multi-index in row-major order (last dimension fastest) and <see cref="Offset"/> its element offset
/// in the buffer. Zero and negative strides are honoured; a 0-d view has exactly one element.
/// </summary>
internal sealed class StridedIndex
{
    private readonly int[] dims;
    private readonly long[] strides;
    private readonly int[] index;
    private readonly long count;

    /// <summary>Starts before the first element of <paramref name="view"/>.</summary>
    public StridedIndex(in TensorView view)
        : this(view.Shape, view.Strides, view.Offset)
    {
    }

    /// <summary>Starts before the first element of the layout (shape, strides, offset).</summary>
    public StridedIndex(Shape shape, long[] strides, long offset)
    {
        dims = shape.ToArray();
        this.strides = strides;
        index = new int[dims.Length];
        count = shape.NumElements;
        Offset = offset;
        Position = -1;
    }

    /// <summary>Row-major position of the current element (-1 before the first <see cref="MoveNext"/>).</summary>
    public long Position { get; private set; }

    /// <summary>Buffer offset (in elements) of the current element.</summary>
    public long Offset { get; private set; }

    /// <summary>Multi-index of the current element.</summary>
    public ReadOnlySpan<int> Index => index;

    /// <summary>Advances to the next element; false once every element has been visited.</summary>
    public bool MoveNext()
    {
        if (Position + 1 >= count)
            return false;
        Position++;
        if (Position == 0)
            return true;
        for (var k = dims.Length - 1; k >= 0; k--)
        {
            index[k]++;
            Offset += strides[k];
            if (index[k] < dims[k])
                return true;
            Offset -= index[k] * strides[k];
            index[k] = 0;
        }
        return true;
    }

    /// <summary>
    /// An odometer over the starting offsets of the lanes of <paramref name="view"/> along <paramref name="axis"/>:
    /// the view with that axis collapsed to size 1, so each visited offset is element 0 of one lane, in row-major
    /// order of the remaining dimensions. Element j of the lane lives at Offset + j·Strides[axis].
    /// </summary>
    public static StridedIndex Lanes(in TensorView view, int axis) =>
        new(view.Shape.With(axis, 1), view.Strides, view.Offset);

    /// <summary>Offset + Σ index[k]·Strides[k] for an explicit multi-index of <paramref name="view"/>.</summary>
    public static long OffsetOf(in TensorView view, ReadOnlySpan<int> index)
    {
        var offset = view.Offset;
        for (var k = 0; k < index.Length; k++)
            offset += index[k] * view.Strides[k];
        return offset;
    }
}
