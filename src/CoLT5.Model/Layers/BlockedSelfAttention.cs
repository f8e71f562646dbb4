// LongT5 local attention (blocks of r + 1, each attending its 3-block window) and, with a global part, transient-
// global attention: every block also attends G summary tokens (RMS-normed sums of 16-token blocks).
using System;
using CoLT5.Nn;
using CoLT5.Nn.Functional;
using CoLT5.Nn.Modules;
using CoLT5.Tensors;

namespace CoLT5.Model.Layers;

/// <summary>
/// Blocked local self-attention with q/k/v/o projections (Hugging Face names). In transient-global
/// mode it also owns <c>global_input_layer_norm</c> and adds the global keys/values
/// (projected with the same k and v). Biases and masks come precomputed from <see cref="EncoderContext"/>.
/// </summary>
public sealed class BlockedSelfAttention : Module
{
    private readonly Linear q, k, v, o;
    private readonly RmsNorm? globalNorm;
    private readonly Dropout dropout;
    private readonly int heads;

    /// <summary>Creates the projections (and the global norm) under <paramref name="p"/>.</summary>
    public BlockedSelfAttention(ParameterBuilder p, int dModel, int heads, int dKv, double eps, bool transientGlobal,
        Dropout dropout)
    {
        this.heads = heads;
        q = Own(new Linear(p.Sub("q"), dModel, heads * dKv, Math.Pow(dModel * (double)dKv, -0.5)));
        k = Own(new Linear(p.Sub("k"), dModel, heads * dKv, Math.Pow(dModel, -0.5)));
        v = Own(new Linear(p.Sub("v"), dModel, heads * dKv, Math.Pow(dModel, -0.5)));
        o = Own(new Linear(p.Sub("o"), heads * dKv, dModel, Math.Pow(heads * (double)dKv, -0.5)));
        if (transientGlobal)
            globalNorm = Own(new RmsNorm(p.Sub("global_input_layer_norm"), dModel, eps));
        this.dropout = Own(dropout);
    }

    /// <summary>(B, n, d) → (B, n, d): fused (the band |j − i| ≤ r, and the global tokens as a second key set) unless
    /// attention dropout is on; then composed over blocks with the context's blocked bias.</summary>
    public Tensor Forward(Tensor h, EncoderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return AttentionCore.CanFuse(dropout, h.Device) ? ForwardFused(h, context) : ForwardBlocks(h, context);
    }

    // Local attention as a band in the fused kernel: no blocks, no 3-block copies of k and v, no dense bias.
    private Tensor ForwardFused(Tensor h, EncoderContext context)
    {
        using var qh = Heads(q, h);                                                 // (B, H, n, dk) views
        using var kh = Heads(k, h);
        using var vh = Heads(v, h);
        var local = context.SelfKeys(kh, vh, context.SelfTable, context.Config.LocalRadius);
        using var attended = globalNorm is null
            ? FusedAttention.Forward(qh, local)
            : WithGlobals(qh, local, h, context);                                    // (B, H, n, dk)
        using var merged = AttentionCore.MergeHeads(attended);
        return o.Forward(merged);
    }

    private Tensor WithGlobals(Tensor qh, AttentionKeySet local, Tensor h, EncoderContext context)
    {
        using var aggregates = GlobalAggregates(h, context);                        // (B, G, d)
        using var normed = globalNorm!.Forward(aggregates);
        using var kSide = Heads(k, normed);                                          // (B, H, G, dk)
        using var vSide = Heads(v, normed);
        return FusedAttention.Forward(qh, local, context.GlobalKeys(kSide, vSide));
    }

    // Project and split heads: (B, S, d) → (B, H, S, dk) (a view of the projection).
    private Tensor Heads(Linear projection, Tensor x)
    {
        using var projected = projection.Forward(x);
        return AttentionCore.SplitHeads(projected, heads);
    }

    private Tensor ForwardBlocks(Tensor h, EncoderContext context)
    {
        int batch = h.Shape[0], n = h.Shape[1], bl = context.BlockLen;
        using var qb = Blocks(q, h, bl, threeBlocks: false);                  // (B, nb, H, bl, dk)
        using var kLocal = Blocks(k, h, bl, threeBlocks: true);               // (B, nb, H, 3bl, dk)
        using var vLocal = Blocks(v, h, bl, threeBlocks: true);
        Tensor keys = kLocal, values = vLocal;
        if (globalNorm is not null)
        {
            // Global tokens: sums of the hidden states of each block, RMS-normed, projected with k and v.
            using var aggregates = GlobalAggregates(h, context);             // (B, G, d)
            using var normed = globalNorm.Forward(aggregates);
            using var kSide = SideBlocks(k, normed, context.Blocks);          // (B, nb, H, G, dk)
            using var vSide = SideBlocks(v, normed, context.Blocks);
            keys = Tensor.Cat([kLocal, kSide], 3);
            values = Tensor.Cat([vLocal, vSide], 3);
        }
        try
        {
            using var attended = AttentionCore.Attend(qb, keys, values, context.LocalBias, dropout);  // (B, nb, H, bl, dk)
            using var moved = attended.Permute(0, 1, 3, 2, 4);                    // (B, nb, bl, H, dk)
            using var flat = moved.Reshape(batch, context.Blocks * bl, -1);
            using var cropped = LocalBlocks.Crop(flat, n);
            return o.Forward(cropped);
        }
        finally
        {
            if (!ReferenceEquals(keys, kLocal))
            {
                keys.Dispose();
                values.Dispose();
            }
        }
    }

    // Project, split heads and block: (B, n, d) → (B, nb, H, bl or 3bl, dk).
    private Tensor Blocks(Linear projection, Tensor h, int blockLen, bool threeBlocks)
    {
        using var projected = projection.Forward(h);
        using var split = projected.Reshape(h.Shape[0], h.Shape[1], heads, -1);  // (B, n, H, dk)
        using var blocks = LocalBlocks.Split(split, blockLen);                     // (B, nb, bl, H, dk)
        using var window = threeBlocks ? LocalBlocks.ThreeBlocks(blocks) : blocks.Contiguous();
        return window.Permute(0, 1, 3, 2, 4);
    }

    // Σ of the hidden states of each global block: (B, G, d); padding (block −1) contributes nothing.
    private static Tensor GlobalAggregates(Tensor h, EncoderContext context)
    {
        int batch = h.Shape[0], n = h.Shape[1], globals = context.GlobalLength, d = h.Shape[2];
        var ids = context.GlobalBlockIds!;
        var slots = new int[batch * n];
        for (var b = 0; b < batch; b++)
        {
            for (var i = 0; i < n; i++)
            {
                var id = ids[b * n + i];
                slots[b * n + i] = b * (globals + 1) + (id >= 0 ? id : globals);   // padding → a discarded slot
            }
        }
        using var index = Tensor.FromArray<int>(slots, new Shape(slots.Length), h.Device);
        using var zeros = Tensor.Zeros(new Shape(batch * (globals + 1), d), h.DType, h.Device);
        using var rows = h.Reshape(batch * n, d);
        using var sums = zeros.IndexAdd(0, index, rows);
        using var perRow = sums.Reshape(batch, globals + 1, d);
        return perRow.Narrow(1, 0, globals);
    }

    // Global keys or values tiled over the blocks: (B, G, d) → (B, nb, H, G, dk).
    private Tensor SideBlocks(Linear projection, Tensor globals, int blocks)
    {
        using var projected = projection.Forward(globals);
        using var split = AttentionCore.SplitHeads(projected, heads);               // (B, H, G, dk)
        using var wide = split.Unsqueeze(1);
        return wide.Expand(split.Shape[0], blocks, split.Shape[1], split.Shape[2], split.Shape[3]);
    }
}
