// The attention arithmetic shared by every attention layer: scores = q·kᵀ (no 1/√d scaling, T5) + bias + mask,
// softmax over keys, dropout on the weights, weighted sum of values; grouped key/value heads are repeated.
using System;
using CoLT5.Nn.Functional;
using CoLT5.Nn.Modules;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Model.Layers;

/// <summary>Scaled-dot-product attention in T5 conventions over arbitrary leading batch dimensions.</summary>
public static class AttentionCore
{
    /// <summary>
    /// Whether encoder attention runs through <see cref="FusedAttention"/> (no Tq × Tk matrix) when attention dropout
    /// is inactive; false forces the composed path everywhere. Default: on, unless the environment variable
    /// <c>COLT5_ATTENTION</c> is <c>composed</c>.
    /// </summary>
    /// <remarks>Setting it affects the calling thread only (layers decide on the thread that runs them).</remarks>
    public static bool PreferFused
    {
        get => preferFused ?? FusedByDefault;
        set => preferFused = value;
    }

    [ThreadStatic] private static bool? preferFused;

    private static readonly bool FusedByDefault =
        !string.Equals(Environment.GetEnvironmentVariable("COLT5_ATTENTION"), "composed", StringComparison.OrdinalIgnoreCase);

    /// <summary>True when a layer with this attention dropout may take the fused path now on this device (whose
    /// backend must have the fused kernels: elsewhere the composed path keeps its work on the device).</summary>
    public static bool CanFuse(Dropout? dropout, Device device) =>
        PreferFused && (dropout is null || !dropout.Training || dropout.P == 0)
        && BackendRegistry.Get(device).HasFusedAttention;

    /// <summary>
    /// q: (..., H, Tq, D); k, v: (..., G, Tk, D) with H a multiple of G (query head h reads kv head h / (H/G));
    /// bias: additive, broadcastable to (..., H, Tq, Tk) (relative bias plus masks), or null. Returns (..., H, Tq, D).
    /// </summary>
    public static Tensor Attend(Tensor q, Tensor k, Tensor v, Tensor? bias, Dropout? dropout)
    {
        var heads = q.Shape[^3];
        var groups = k.Shape[^3];
        if (heads % groups != 0 || v.Shape[^3] != groups)
            throw new ShapeMismatchException("attention", q.Shape, k.Shape, $"{heads} query heads cannot share {groups} kv heads");
        using var kh = Repeat(k, heads / groups);
        using var vh = Repeat(v, heads / groups);
        using var scores = Tensor.MatMul(q, kh, transposeB: true);
        using var biased = bias is null ? scores.Contiguous() : scores + bias;
        using var weights = biased.Softmax();
        using var dropped = dropout is null ? weights.Contiguous() : dropout.Forward(weights);
        return dropped.MatMul(vh);
    }

    // (..., G, T, D) → (..., G·r, T, D), each head repeated r times in place (repeat_interleave).
    private static Tensor Repeat(Tensor x, int r)
    {
        if (r == 1)
            return x.Contiguous();
        var rank = x.Rank;
        using var wide = x.Unsqueeze(rank - 2);                          // (..., G, 1, T, D)
        int[] expanded = [.. x.Shape.Dims[..^3], x.Shape[^3], r, x.Shape[^2], x.Shape[^1]];
        using var big = wide.Expand(expanded);
        return big.Reshape([.. x.Shape.Dims[..^3], x.Shape[^3] * r, x.Shape[^2], x.Shape[^1]]);
    }

    /// <summary>(B, T, H·D) → (B, H, T, D).</summary>
    public static Tensor SplitHeads(Tensor x, int heads) => Attention.SplitHeads(x, heads);

    /// <summary>(B, H, T, D) → (B, T, H·D).</summary>
    public static Tensor MergeHeads(Tensor x) => Attention.MergeHeads(x);
}
