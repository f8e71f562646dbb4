// The host side of layout.h's Layout: a shape and up to four operands' element strides, with adjacent dims merged
// where every operand allows it, so most kernels see rank 1 (a contiguous run) and skip index arithmetic.
using System;
using System.Runtime.InteropServices;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Gpu;

/// <summary>Bytes identical to the kernels' <c>Layout</c> struct (passed by value).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KernelLayout
{
    public const int MaxRank = 8;
    public const int MaxOperands = 4;

    public fixed long Dims[MaxRank];
    public fixed long Strides[MaxOperands * MaxRank];
    public long N;
    public int Rank;
    public int Pad;

    /// <summary>The layout of <paramref name="shape"/> over operands with the given strides (one array per operand,
    /// each of the shape's rank): size-1 dims dropped, mergeable neighbours merged.</summary>
    public static KernelLayout Of(ReadOnlySpan<int> shape, params long[][] strides)
    {
        if (strides.Length > MaxOperands)
            throw new ArgumentException($"a layout holds at most {MaxOperands} operands", nameof(strides));
        Span<long> dims = stackalloc long[shape.Length];
        Span<long> st = stackalloc long[MaxOperands * Math.Max(1, shape.Length)];
        var rank = 0;
        long n = 1;
        for (var d = 0; d < shape.Length; d++)
        {
            n *= shape[d];
            if (shape[d] == 1)
                continue;
            var merge = rank > 0;
            for (var k = 0; k < strides.Length && merge; k++)
                merge = st[k * shape.Length + rank - 1] == strides[k][d] * shape[d];
            if (merge)
            {
                dims[rank - 1] *= shape[d];
                for (var k = 0; k < strides.Length; k++)
                    st[k * shape.Length + rank - 1] = strides[k][d];
                continue;
            }
            dims[rank] = shape[d];
            for (var k = 0; k < strides.Length; k++)
                st[k * shape.Length + rank] = strides[k][d];
            rank++;
        }
        if (rank > MaxRank)
            throw new NotSupportedException($"the GPU kernels address at most {MaxRank} non-mergeable dims; this view needs {rank}");
        var layout = new KernelLayout { N = n, Rank = Math.Max(rank, 1) };
        layout.Dims[0] = 1;
        for (var d = 0; d < rank; d++)
        {
            layout.Dims[d] = dims[d];
            for (var k = 0; k < strides.Length; k++)
                layout.Strides[k * MaxRank + d] = st[k * shape.Length + d];
        }
        return layout;
    }

    /// <summary>The layout of same-shaped views.</summary>
    public static KernelLayout Of(params TensorView[] views)
    {
        var strides = new long[views.Length][];
        for (var k = 0; k < views.Length; k++)
            strides[k] = views[k].Strides;
        return Of(views[0].Shape.Dims, strides);
    }
}
