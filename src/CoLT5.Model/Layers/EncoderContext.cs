// Everything an encoder layer needs besides its input, computed once per forward from the padding mask and the
// bias tables of layer 0 (T5 shares them across the stack): additive biases with masks folded in, transient-global
// block ids, and the host-side mask the routers use.
using System;
using CoLT5.Model.Configuration;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;

namespace CoLT5.Model.Layers;

/// <summary>The relative-bias tables owned by the encoder's first layer (null where the encoder type has none).</summary>
/// <param name="Main">T5 / LongT5 self-attention table (buckets, H).</param>
/// <param name="Global">LongT5 transient-global side table (buckets, H).</param>
/// <param name="Light">CoLT5 light attention table (buckets, h_L).</param>
/// <param name="Heavy">CoLT5 heavy attention table (buckets, h_H).</param>
public sealed record EncoderBiasTables(RelativeBias? Main, RelativeBias? Global, RelativeBias? Light, RelativeBias? Heavy);

/// <summary>Per-forward encoder state shared by all layers. Disposing releases its tensors.</summary>
public sealed class EncoderContext : IDisposable
{
    private EncoderContext(ModelConfig config, bool[] mask, int batch, int length)
    {
        Config = config;
        Mask = mask;
        Batch = batch;
        Length = length;
        BlockLen = config.LocalRadius + 1;
        Blocks = LocalBlocks.Count(length, BlockLen);
    }

    /// <summary>The model configuration.</summary>
    public ModelConfig Config { get; }

    /// <summary>Padding mask (B·n), true for real tokens.</summary>
    public bool[] Mask { get; }

    /// <summary>Batch size B.</summary>
    public int Batch { get; }

    /// <summary>Sequence length n.</summary>
    public int Length { get; }

    /// <summary>Local block length r + 1.</summary>
    public int BlockLen { get; }

    /// <summary>Number of local blocks.</summary>
    public int Blocks { get; }

    /// <summary>T5: (B, H, n, n) relative bias plus key padding mask; (1, H, n, n) when no token is padding.</summary>
    public Tensor? FullBias { get; private set; }

    /// <summary>Local / transient-global / CoLT5-light: (B, nb, H, bl, 3bl[+G]) bias plus masks.</summary>
    public Tensor? LocalBias { get; private set; }

    /// <summary>Transient-global: the block of each token (B·n), −1 for padding.</summary>
    public int[]? GlobalBlockIds { get; private set; }

    /// <summary>Transient-global: number of global tokens G = n / global_block_size.</summary>
    public int GlobalLength { get; private set; }

    /// <summary>CoLT5: the heavy attention table (routed biases are built per layer from routed positions).</summary>
    public RelativeBias? HeavyTable { get; private set; }

    /// <summary>Real tokens in row <paramref name="b"/>.</summary>
    public int ValidCount(int b)
    {
        var count = 0;
        for (var i = 0; i < Length; i++)
            count += Mask[b * Length + i] ? 1 : 0;
        return count;
    }

    /// <summary>Builds the context for a batch with padding mask <paramref name="mask"/> (B·n).</summary>
    public static EncoderContext Build(ModelConfig config, bool[] mask, int batch, int length, EncoderBiasTables tables,
        DType dtype, Device device)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(mask);
        ArgumentNullException.ThrowIfNull(tables);
        var context = new EncoderContext(config, mask, batch, length);
        using var scope = DisposeScope.Enter();
        switch (config.Encoder)
        {
            case EncoderType.T5:
                context.FullBias = scope.Detach(context.BuildFull(tables.Main!, dtype, device));
                break;
            case EncoderType.LongT5Local:
                context.LocalBias = scope.Detach(context.BuildLocal(tables.Main!, dtype, device));
                break;
            case EncoderType.LongT5TGlobal:
                context.LocalBias = scope.Detach(context.BuildTransientGlobal(tables.Main!, tables.Global!, dtype, device));
                break;
            case EncoderType.CoLT5:
                context.LocalBias = scope.Detach(context.BuildLocal(tables.Light!, dtype, device));
                context.HeavyTable = tables.Heavy;
                break;
        }
        return context;
    }

    // T5: bias (1, H, n, n) + (1 − mask)·min over keys (Hugging Face's extended attention mask); without padding
    // the mask adds nothing and the (1, H, n, n) sum is not built.
    private Tensor BuildFull(RelativeBias table, DType dtype, Device device)
    {
        if (Array.TrueForAll(Mask, real => real))
            return table.Full(Length, Length, bidirectional: true);
        using var bias = table.Full(Length, Length, bidirectional: true);
        using var keys = MaskTensor(Mask, [Batch, 1, 1, Length], device);
        using var additive = Additive(keys, dtype, MinValue(dtype));
        return bias + additive;
    }

    // (B, nb, H, bl, 3bl): the blocked bias plus the local mask (key real and |key − query| ≤ r).
    private Tensor BuildLocal(RelativeBias table, DType dtype, Device device)
    {
        using var bias = table.Blocked(BlockLen);                                  // (1, 1, H, bl, 3bl)
        using var allowed = MaskTensor(LocalAllowed(), [Batch, Blocks, 1, BlockLen, 3 * BlockLen], device);
        using var additive = Additive(allowed, dtype, MaskValue);
        return bias + additive;
    }

    private bool[] LocalAllowed()
    {
        int bl = BlockLen, nb = Blocks, n = Length;
        var allowed = new bool[Batch * nb * bl * 3 * bl];
        for (var b = 0; b < Batch; b++)
        {
            for (var blk = 0; blk < nb; blk++)
            {
                for (var i = 0; i < bl; i++)
                {
                    for (var j = 0; j < 3 * bl; j++)
                    {
                        var kj = (blk - 1) * bl + j;
                        var keyReal = kj >= 0 && kj < n && Mask[b * n + kj];
                        var near = Math.Abs(j - bl - i) < bl;
                        allowed[(((b * nb) + blk) * bl + i) * 3 * bl + j] = keyReal && near;
                    }
                }
            }
        }
        return allowed;
    }

    // Transient-global: local bias (as above) concatenated with the side bias towards the G global tokens.
    private Tensor BuildTransientGlobal(RelativeBias local, RelativeBias global, DType dtype, Device device)
    {
        var g = Config.GlobalBlockSize;
        int n = Length, globals = n / g;
        GlobalLength = globals;
        var blockIds = TransientGlobalBlocks.BlockIds(Mask, Batch, n, g);
        GlobalBlockIds = blockIds;
        var segments = TransientGlobalBlocks.SegmentIds(blockIds, Batch, n, globals);
        var relative = new int[Batch * n * globals];
        var sideAllowed = new bool[Batch * n * globals];
        for (var b = 0; b < Batch; b++)
        {
            for (var i = 0; i < n; i++)
            {
                for (var t = 0; t < globals; t++)
                {
                    var at = (b * n + i) * globals + t;
                    relative[at] = t - blockIds[b * n + i];
                    sideAllowed[at] = segments[b * globals + t] >= 0;   // every global token that holds real tokens
                }
            }
        }
        using var localBias = BuildLocal(local, dtype, device);                                  // (B, nb, H, bl, 3bl)
        using var sideBias = global.FromOffsets(relative, Batch, n, globals, bidirectional: true);   // (B, H, n, G)
        using var side = Array.TrueForAll(sideAllowed, allowed => allowed)
            ? sideBias.Contiguous()                                   // every global token is real: nothing to mask
            : MaskedSide(sideBias, sideAllowed, dtype, device);
        using var sideSeq = side.Permute(0, 2, 1, 3);                                             // (B, n, H, G)
        using var sideBlocks = LocalBlocks.Split(sideSeq, BlockLen);                               // (B, nb, bl, H, G)
        using var sideByHead = sideBlocks.Permute(0, 1, 3, 2, 4);                                  // (B, nb, H, bl, G)
        int heads = local.Table.Shape[1];
        using var localFull = localBias.Expand(Batch, Blocks, heads, BlockLen, 3 * BlockLen);
        return Tensor.Cat([localFull, sideByHead], 4);
    }

    // The side bias (B, H, n, G) plus −1e10 towards global tokens that hold no real token.
    private Tensor MaskedSide(Tensor sideBias, bool[] sideAllowed, DType dtype, Device device)
    {
        using var sideMask = MaskTensor(sideAllowed, [Batch, 1, Length, GlobalLength], device);
        using var sideAdditive = Additive(sideMask, dtype, MaskValue);
        return sideBias + sideAdditive;
    }

    private static Tensor MaskTensor(bool[] values, int[] shape, Device device) =>
        Tensor.FromArray<bool>(values, new Shape(shape), device);

    // 0 where allowed, `value` elsewhere.
    private static Tensor Additive(Tensor allowed, DType dtype, double value)
    {
        using var blocked = allowed.Eq(0);
        using var zeros = Tensor.Zeros(allowed.Shape, dtype, allowed.Device);
        return zeros.MaskedFill(blocked, value);
    }

    /// <summary>The most negative finite value of a dtype (Hugging Face's torch.finfo(dtype).min).</summary>
    public static double MinValue(DType dtype) => dtype == DType.Float64 ? double.MinValue : float.MinValue;

    /// <summary>The additive mask of local, transient-global and routed attention: −1e10, as LongT5 (exp underflows
    /// to exactly 0 in both precisions).</summary>
    public const double MaskValue = -1e10;

    /// <summary>Releases the bias tensors.</summary>
    public void Dispose()
    {
        FullBias?.Dispose();
        LocalBias?.Dispose();
    }
}
