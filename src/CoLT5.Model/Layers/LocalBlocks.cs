// Blocking helpers for LongT5-style local attention: split a sequence into blocks of r + 1 (zero-padded at the
// end) and build each block's 3-block key window (previous, own, next; zeros beyond the edges).
using CoLT5.Tensors;

namespace CoLT5.Model.Layers;

/// <summary>Sequence ↔ block views for local attention.</summary>
public static class LocalBlocks
{
    /// <summary>Number of blocks of <paramref name="blockLen"/> covering <paramref name="n"/> tokens.</summary>
    public static int Count(int n, int blockLen) => (n + blockLen - 1) / blockLen;

    /// <summary>(B, n, ...) → (B, nb, bl, ...), zero-padding the sequence to a multiple of bl.</summary>
    public static Tensor Split(Tensor x, int blockLen)
    {
        var n = x.Shape[1];
        var blocks = Count(n, blockLen);
        var padded = blocks * blockLen;
        using var full = padded == n ? x.Contiguous() : PadSequence(x, padded - n);
        return full.Reshape([x.Shape[0], blocks, blockLen, .. x.Shape.Dims[2..]]);
    }

    /// <summary>(B, nb, bl, ...) → (B, nb, 3·bl, ...): each block's previous, own and next block (zeros outside).</summary>
    public static Tensor ThreeBlocks(Tensor blocks)
    {
        var nb = blocks.Shape[1];
        using var zeros = Tensor.Zeros(blocks.Shape.With(1, 1), blocks.DType, blocks.Device);
        using var padded = Tensor.Cat([zeros, blocks, zeros], 1);          // (B, nb + 2, bl, ...)
        using var previous = padded.Narrow(1, 0, nb);
        using var own = padded.Narrow(1, 1, nb);
        using var next = padded.Narrow(1, 2, nb);
        return Tensor.Cat([previous, own, next], 2);
    }

    /// <summary>(B, nb·bl, ...) → (B, n, ...): drops the padding added by <see cref="Split"/>.</summary>
    public static Tensor Crop(Tensor x, int n) => x.Shape[1] == n ? x.Contiguous() : x.Narrow(1, 0, n);

    private static Tensor PadSequence(Tensor x, int extra)
    {
        using var zeros = Tensor.Zeros(x.Shape.With(1, extra), x.DType, x.Device);
        return Tensor.Cat([x, zeros], 1);
    }
}
