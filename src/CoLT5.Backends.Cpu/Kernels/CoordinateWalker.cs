// Row-major walk over a shape that keeps the coordinates and every operand's element offset up to date with
// carries, for kernels (gather, scatter, index ops) that need coordinates, not just runs.
using CoLT5.Tensors;

namespace CoLT5.Backends.Cpu.Kernels;

/// <summary>Iterates positions of a shape in row-major order, tracking coordinates and per-operand offsets.</summary>
internal sealed class CoordinateWalker
{
    private readonly int[] dims;
    private readonly long[][] strides;

    public CoordinateWalker(Shape shape, long[][] strides, long[] offsets)
    {
        dims = shape.ToArray();
        this.strides = strides;
        Coordinates = new int[dims.Length];
        Offsets = (long[])offsets.Clone();
        Count = shape.NumElements;
    }

    /// <summary>Number of positions.</summary>
    public long Count { get; }

    /// <summary>Current coordinates.</summary>
    public int[] Coordinates { get; }

    /// <summary>Current element offset of each operand.</summary>
    public long[] Offsets { get; }

    /// <summary>Advances to the next position (call Count − 1 times after the first).</summary>
    public void MoveNext()
    {
        for (var d = dims.Length - 1; d >= 0; d--)
        {
            if (++Coordinates[d] < dims[d])
            {
                for (var k = 0; k < Offsets.Length; k++)
                    Offsets[k] += strides[k][d];
                return;
            }
            Coordinates[d] = 0;
            for (var k = 0; k < Offsets.Length; k++)
                Offsets[k] -= strides[k][d] * (dims[d] - 1);
        }
    }

    /// <summary>Strides with one axis zeroed (the indexed axis is addressed through the index instead).</summary>
    public static long[] Without(long[] strides, int axis)
    {
        var copy = (long[])strides.Clone();
        copy[axis] = 0;
        return copy;
    }
}
