// Iteration over up to four strided operands of one logical shape: dimensions are collapsed where every operand
// is contiguous across them, leaving an inner run (length, per-operand stride) and an outer index space.
using System;
using CoLT5.Tensors;

namespace CoLT5.Backends.Cpu.Kernels;

/// <summary>
/// The collapsed iteration space of several views of the same shape. Row r (0 ≤ r &lt; <see cref="Rows"/>) is a run
/// of <see cref="RowLength"/> elements; operand k's elements in it start at <see cref="RowOffsets"/> and step by
/// <see cref="InnerStride"/>(k).
/// </summary>
internal sealed class StridedLoop
{
    private readonly int[] outerDims;          // collapsed outer dimensions, outermost first
    private readonly long[][] outerStrides;    // [operand][dim]
    private readonly long[] innerStrides;
    private readonly long[] baseOffsets;

    private StridedLoop(int[] outerDims, long[][] outerStrides, long[] innerStrides, long[] baseOffsets, int rowLength)
    {
        this.outerDims = outerDims;
        this.outerStrides = outerStrides;
        this.innerStrides = innerStrides;
        this.baseOffsets = baseOffsets;
        RowLength = rowLength;
        long rows = 1;
        foreach (var d in outerDims)
            rows *= d;
        Rows = rowLength == 0 ? 0 : rows;
    }

    /// <summary>Number of rows.</summary>
    public long Rows { get; }

    /// <summary>Elements per row.</summary>
    public int RowLength { get; }

    /// <summary>Stride of operand <paramref name="k"/> within a row.</summary>
    public long InnerStride(int k) => innerStrides[k];

    /// <summary>Builds the loop for a shape and each operand's (strides, offset).</summary>
    public static StridedLoop Create(Shape shape, ReadOnlySpan<long[]> strides, ReadOnlySpan<long> offsets)
    {
        var operands = strides.Length;
        // Drop size-1 dimensions; they never move an index.
        var dims = new System.Collections.Generic.List<int>();
        var kept = new System.Collections.Generic.List<int>();
        for (var i = 0; i < shape.Rank; i++)
        {
            if (shape[i] == 0)
                return Empty(operands, offsets);
            if (shape[i] != 1)
            {
                dims.Add(shape[i]);
                kept.Add(i);
            }
        }
        var s = new long[operands][];
        for (var k = 0; k < operands; k++)
        {
            s[k] = new long[kept.Count];
            for (var j = 0; j < kept.Count; j++)
                s[k][j] = strides[k][kept[j]];
        }
        // Merge dimension j into j+1 when every operand steps over j exactly like a longer j+1.
        for (var j = dims.Count - 2; j >= 0; j--)
        {
            var mergeable = true;
            for (var k = 0; k < operands && mergeable; k++)
                mergeable = s[k][j] == s[k][j + 1] * dims[j + 1];
            if (!mergeable)
                continue;
            dims[j + 1] *= dims[j];
            dims.RemoveAt(j);
            for (var k = 0; k < operands; k++)
            {
                var list = new System.Collections.Generic.List<long>(s[k]);
                list.RemoveAt(j);
                s[k] = [.. list];
            }
        }
        if (dims.Count == 0)
        {
            dims.Add(1);
            for (var k = 0; k < operands; k++)
                s[k] = [1];
        }
        var rank = dims.Count;
        var inner = new long[operands];
        var outer = new long[operands][];
        for (var k = 0; k < operands; k++)
        {
            inner[k] = s[k][rank - 1];
            outer[k] = s[k][..(rank - 1)];
        }
        return new StridedLoop([.. dims.GetRange(0, rank - 1)], outer, inner, offsets.ToArray(), dims[rank - 1]);
    }

    private static StridedLoop Empty(int operands, ReadOnlySpan<long> offsets)
    {
        var outer = new long[operands][];
        for (var k = 0; k < operands; k++)
            outer[k] = [];
        return new StridedLoop([], outer, new long[operands], offsets.ToArray(), 0);
    }

    /// <summary>Writes each operand's element offset of the first element of row <paramref name="row"/>.</summary>
    public void RowOffsets(long row, Span<long> offsets)
    {
        for (var k = 0; k < offsets.Length; k++)
            offsets[k] = baseOffsets[k];
        for (var d = outerDims.Length - 1; d >= 0; d--)
        {
            var size = outerDims[d];
            var index = row % size;
            row /= size;
            for (var k = 0; k < offsets.Length; k++)
                offsets[k] += index * outerStrides[k][d];
        }
    }
}
