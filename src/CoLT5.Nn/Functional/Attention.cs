// T5-style multi-head attention composed from tensor ops (no 1/√d scaling, additive relative bias and masks,
// grouped key/value heads). It is the readable reference the fused kernels are tested against.
using System;
using CoLT5.Tensors;

namespace CoLT5.Nn.Functional;

/// <summary>Composed scaled-dot-product attention in T5 conventions.</summary>
public static class Attention
{
    /// <summary>
    /// softmax(q·kᵀ + bias + mask)·v with grouped K/V heads: query head h reads K/V head h / (H/G).
    /// q: (B, H, Tq, D); k, v: (B, G, Tk, D) with H divisible by G; bias: broadcastable to (B, H, Tq, Tk) or null;
    /// mask: additive, broadcastable to (B, H, Tq, Tk) or null. Returns (B, H, Tq, D).
    /// </summary>
    public static Tensor ScaledDotProduct(Tensor q, Tensor k, Tensor v, Tensor? bias, Tensor? mask)
    {
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(k);
        ArgumentNullException.ThrowIfNull(v);
        int heads = q.Shape[1], groups = k.Shape[1];
        if (heads % groups != 0 || v.Shape[1] != groups)
            throw new ShapeMismatchException("attention", q.Shape, k.Shape,
                $"{heads} query heads cannot share {groups} key/value heads");
        using var kh = RepeatHeads(k, heads / groups);
        using var vh = RepeatHeads(v, heads / groups);
        using var scores = Tensor.MatMul(q, kh, transposeB: true);            // (B, H, Tq, Tk)
        using var biased = bias is null ? scores.Contiguous() : scores + bias;
        using var masked = mask is null ? biased.Contiguous() : biased + mask;
        using var weights = masked.Softmax();
        return weights.MatMul(vh);
    }

    /// <summary>Repeats each of G heads r times: (B, G, T, D) → (B, G·r, T, D) (torch repeat_interleave).</summary>
    public static Tensor RepeatHeads(Tensor x, int repeats)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (repeats == 1)
            return x.Contiguous();
        int b = x.Shape[0], g = x.Shape[1], t = x.Shape[2], d = x.Shape[3];
        using var wide = x.Unsqueeze(2);
        using var expanded = wide.Expand(b, g, repeats, t, d);
        return expanded.Reshape(b, g * repeats, t, d);
    }

    /// <summary>An additive mask from a bool "allowed" tensor: 0 where allowed, <paramref name="maskValue"/> elsewhere.</summary>
    public static Tensor AdditiveMask(Tensor allowed, double maskValue, DType dtype)
    {
        ArgumentNullException.ThrowIfNull(allowed);
        using var blocked = allowed.Eq(0);
        using var zeros = Tensor.Zeros(allowed.Shape, dtype, allowed.Device);
        return zeros.MaskedFill(blocked, maskValue);
    }

    /// <summary>Splits (B, T, H·D) into heads: (B, H, T, D).</summary>
    public static Tensor SplitHeads(Tensor x, int heads)
    {
        ArgumentNullException.ThrowIfNull(x);
        int b = x.Shape[0], t = x.Shape[1];
        using var split = x.Reshape(b, t, heads, x.Shape[2] / heads);
        return split.Transpose(1, 2);
    }

    /// <summary>Merges heads back: (B, H, T, D) → (B, T, H·D).</summary>
    public static Tensor MergeHeads(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        int b = x.Shape[0], h = x.Shape[1], t = x.Shape[2], d = x.Shape[3];
        using var moved = x.Transpose(1, 2);
        return moved.Reshape(b, t, h * d);
    }
}
