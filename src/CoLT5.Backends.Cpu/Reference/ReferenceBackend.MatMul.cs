// Batched matrix product c = alpha·a·b + beta·c as the textbook triple loop over strided views, each dot product
// summed in float64 with compensation.
using System;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Cpu.Reference;

public sealed partial class ReferenceBackend
{
    /// <summary>
    /// c[.., i, j] = alpha·Σₖ a[.., i, k]·b[.., k, j] + beta·c[.., i, j], where the beta term is left out entirely
    /// (c is never read) when beta = 0. K = 0 gives alpha·0. Any strides are honoured, c's included.
    /// </summary>
    public void MatMul(in TensorView a, in TensorView b, in TensorView c, double alpha, double beta)
    {
        const string name = "matmul";
        var ha = Host(a, name, "a");
        var hb = Host(b, name, "b");
        var hc = Host(c, name, "c");
        RequireFloat(name, "a", a);
        RequireSameDType(name, "b", b, a);
        RequireSameDType(name, "c", c, a);
        if (a.Rank < 2)
            throw new InvalidShapeException(name, a.Shape, "a must be (..., M, K)");
        if (b.Rank != a.Rank || c.Rank != a.Rank)
            throw new ShapeMismatchException(name, a.Shape, b.Rank != a.Rank ? b.Shape : c.Shape,
                "a, b and c must have the same rank (batch dimensions are broadcast by the caller)");
        var rank = a.Rank;
        int m = a.Shape.Dims[rank - 2], k = a.Shape.Dims[rank - 1], n = b.Shape.Dims[rank - 1];
        if (b.Shape.Dims[rank - 2] != k)
            throw new ShapeMismatchException(name, a.Shape, b.Shape, $"inner dimensions differ ({k} vs " +
                $"{b.Shape.Dims[rank - 2]})");
        var batch = new Shape(a.Shape.Dims[..^2]);
        if (new Shape(b.Shape.Dims[..^2]) != batch)
            throw new ShapeMismatchException(name, a.Shape, b.Shape, "batch dimensions must be equal");
        RequireShape(name, "c", c, new Shape([.. batch.Dims, m, n]));

        // One walk over the batch index space; each view supplies its own batch strides (possibly zero).
        var batches = new StridedIndex(batch, new long[batch.Rank], 0);
        long aRow = a.Strides[rank - 2], aCol = a.Strides[rank - 1];
        long bRow = b.Strides[rank - 2], bCol = b.Strides[rank - 1];
        long cRow = c.Strides[rank - 2], cCol = c.Strides[rank - 1];
        while (batches.MoveNext())
        {
            var a0 = BatchOffset(a, batches.Index);
            var b0 = BatchOffset(b, batches.Index);
            var c0 = BatchOffset(c, batches.Index);
            for (var i = 0; i < m; i++)
            {
                for (var j = 0; j < n; j++)
                {
                    var dot = new NeumaierSum();
                    for (var p = 0; p < k; p++)
                        dot.Add(ha[a0 + i * aRow + p * aCol] * hb[b0 + p * bRow + j * bCol]);
                    var cOffset = c0 + i * cRow + j * cCol;
                    var result = alpha * dot.Value;
                    if (beta != 0)
                        result += beta * hc[cOffset];
                    hc[cOffset] = result;
                }
            }
        }
    }

    /// <summary>Offset of element (batch..., 0, 0) of a rank-(batch + 2) view.</summary>
    private static long BatchOffset(in TensorView view, ReadOnlySpan<int> batchIndex)
    {
        var offset = view.Offset;
        for (var d = 0; d < batchIndex.Length; d++)
            offset += batchIndex[d] * view.Strides[d];
        return offset;
    }
}
