// Everything an encoder layer needs besides its input, computed once per forward from the padding mask and the
// bias tables of layer 0 (T5 shares them across the stack): the key sets of the fused attention (mask tensor,
// bucket maps, transient-global positions), the dense additive biases of the composed path (built only when a layer
// asks for them), transient-global block ids, the host-side mask the routers use, the real-row mask the token mixers
// and the MoE router multiply by, and the auxiliary losses (router z-loss) the layers record.
using System;
using System.Collections.Generic;
using CoLT5.Model.Configuration;
using CoLT5.Nn.Functional;
using CoLT5.Tensors;

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
    private readonly EncoderBiasTables tables;
    private readonly DType dtype;
    private readonly Device device;
    private readonly List<Tensor> owned = [];
    private readonly Dictionary<RelativeBias, BucketedBias> bucketed = [];
    private Tensor? fullBias, localBias, keyMask, globalQueryPositions, globalKeyMask, realRows, auxiliaryLoss;
    private bool keyMaskBuilt, realRowsBuilt;

    private EncoderContext(ModelConfig config, bool[] mask, int batch, int length, EncoderBiasTables tables,
        DType dtype, Device device)
    {
        Config = config;
        Mask = mask;
        Batch = batch;
        Length = length;
        BlockLen = config.LocalRadius + 1;
        Blocks = LocalBlocks.Count(length, BlockLen);
        this.tables = tables;
        this.dtype = dtype;
        this.device = device;
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

    /// <summary>T5 and Sparse Mixer's attention layers: (B, H, n, n) relative bias plus key padding mask; (1, H, n, n)
    /// when no token is padding. Built on first use (only the composed attention path reads it).</summary>
    public Tensor? FullBias => Config.Encoder is EncoderType.T5 or EncoderType.SparseMixer && tables.Main is not null
        ? fullBias ??= Own(BuildFull(tables.Main, dtype, device))
        : null;

    /// <summary>Local / transient-global / CoLT5-light: (B, nb, H, bl, 3bl[+G]) bias plus masks. Built on first use
    /// (only the composed attention path reads it).</summary>
    public Tensor? LocalBias => Config.Encoder switch
    {
        EncoderType.LongT5Local => localBias ??= Own(BuildLocal(tables.Main!, dtype, device)),
        EncoderType.LongT5TGlobal => localBias ??= Own(BuildTransientGlobal(tables.Main!, tables.Global!, dtype, device)),
        EncoderType.CoLT5 => localBias ??= Own(BuildLocal(tables.Light!, dtype, device)),
        _ => null,
    };

    /// <summary>The table of the encoder's self-attention: T5 / LongT5 / Sparse Mixer main table, CoLT5 light
    /// table.</summary>
    public RelativeBias SelfTable => (Config.Encoder == EncoderType.CoLT5 ? tables.Light : tables.Main)
        ?? throw new InvalidOperationException("the self-attention relative bias table is missing");

    /// <summary>(B, n, 1) in the model's dtype: 1 for real tokens, 0 for padding; null when no token is padding.
    /// Token mixers zero padded rows with it, the MoE router gives padding probability 0.</summary>
    public Tensor? RealRows
    {
        get
        {
            if (!realRowsBuilt)
            {
                realRowsBuilt = true;
                if (!Array.TrueForAll(Mask, real => real))
                {
                    using var flags = MaskTensor(Mask, [Batch, Length, 1], device);
                    realRows = Own(flags.To(dtype));
                }
            }
            return realRows;
        }
    }

    /// <summary>Adds a 0-d auxiliary loss term (already weighted) recorded by a layer during this forward; the
    /// context takes ownership of <paramref name="term"/>.</summary>
    public void AddAuxiliaryLoss(Tensor term)
    {
        ArgumentNullException.ThrowIfNull(term);
        if (auxiliaryLoss is null)
        {
            auxiliaryLoss = term;
            return;
        }
        using var previous = auxiliaryLoss;
        using (term)
            auxiliaryLoss = previous + term;
    }

    /// <summary>The sum of the auxiliary losses recorded so far (null if none), handed to the caller.</summary>
    public Tensor? TakeAuxiliaryLoss()
    {
        var taken = auxiliaryLoss;
        auxiliaryLoss = null;
        return taken;
    }

    /// <summary>(B, n) bool padding mask as a tensor; null when no token is padding.</summary>
    public Tensor? KeyMask
    {
        get
        {
            if (!keyMaskBuilt)
            {
                keyMaskBuilt = true;
                keyMask = Array.TrueForAll(Mask, real => real) ? null : Own(MaskTensor(Mask, [Batch, Length], device));
            }
            return keyMask;
        }
    }

    /// <summary>
    /// The fused attention's self key set over keys/values (B, H, n, dk): padding masked, the band |j − i| ≤ r for
    /// local attention (<paramref name="window"/>), the bucketed <paramref name="table"/>.
    /// </summary>
    public AttentionKeySet SelfKeys(Tensor keys, Tensor values, RelativeBias table, int window) =>
        new(keys, values) { KeyMask = KeyMask, Window = window, Bias = Bucketed(table) };

    /// <summary>
    /// Transient-global: the side key set over the G summary tokens (B, H, G, dk): offsets from each token's block
    /// (−1 for padding) to the global token's index, global tokens that hold no real token masked.
    /// </summary>
    public AttentionKeySet GlobalKeys(Tensor keys, Tensor values)
    {
        if (globalQueryPositions is null)
        {
            var blockIds = GlobalBlockIds ?? throw new InvalidOperationException("no transient-global block ids");
            globalQueryPositions = Own(Tensor.FromArray<int>(blockIds, new Shape(Batch, Length), device));
            var segments = TransientGlobalBlocks.SegmentIds(blockIds, Batch, Length, GlobalLength);
            var real = Array.ConvertAll(segments, id => id >= 0);
            if (!Array.TrueForAll(real, r => r))
                globalKeyMask = Own(MaskTensor(real, [Batch, GlobalLength], device));
        }
        return new AttentionKeySet(keys, values)
        {
            KeyMask = globalKeyMask,
            QueryPositions = globalQueryPositions,
            Bias = Bucketed(tables.Global ?? throw new InvalidOperationException("the global bias table is missing")),
        };
    }

    /// <summary>A table with its bucket map over ±max_distance (built once per forward and table).</summary>
    public BucketedBias Bucketed(RelativeBias table)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (!bucketed.TryGetValue(table, out var bias))
        {
            var (map, low) = table.BucketMap(bidirectional: true);
            bias = new BucketedBias(table.Table, Own(Tensor.FromArray<int>(map, new Shape(map.Length), device)), low);
            bucketed[table] = bias;
        }
        return bias;
    }

    // Keeps a lazily built tensor for the context's lifetime, whatever dispose scope is open when it is built.
    private Tensor Own(Tensor t)
    {
        t.OwnerScope = null;
        owned.Add(t);
        return t;
    }

    /// <summary>Transient-global: the block of each token (B·n), −1 for padding.</summary>
    public int[]? GlobalBlockIds { get; private set; }

    /// <summary>Transient-global: number of global tokens G = n / global_block_size.</summary>
    public int GlobalLength { get; private set; }

    /// <summary>CoLT5: the heavy attention table (routed biases are built per layer from routed positions).</summary>
    public RelativeBias? HeavyTable { get; private set; }

    /// <summary>
    /// Receives every routing decision of this forward (CoLT5 encoders); null (the default) records nothing and costs
    /// nothing. <see cref="Encoder.Forward(Tensor, bool[], IRoutingObserver?)"/> sets it.
    /// </summary>
    public IRoutingObserver? RoutingObserver { get; set; }

    /// <summary>The index of the encoder layer running now, which routing observations carry; the encoder sets it
    /// before each layer.</summary>
    public int Layer { get; set; }

    /// <summary>Reports <paramref name="route"/>, just made by router <paramref name="kind"/> of the current layer,
    /// to the <see cref="RoutingObserver"/>; returns at once when there is none.</summary>
    public void Observe(RouterKind kind, Route route)
    {
        if (RoutingObserver is { } observer)
            observer.OnRoute(RouterObservation.Of(Layer, kind, Length, route));
    }

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
        var context = new EncoderContext(config, mask, batch, length, tables, dtype, device);
        if (config.Encoder == EncoderType.LongT5TGlobal)
        {
            context.GlobalLength = length / config.GlobalBlockSize;
            context.GlobalBlockIds = TransientGlobalBlocks.BlockIds(mask, batch, length, config.GlobalBlockSize);
        }
        if (config.Encoder == EncoderType.CoLT5)
            context.HeavyTable = tables.Heavy;
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
        int n = Length, globals = GlobalLength;
        var blockIds = GlobalBlockIds!;
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

    /// <summary>Releases the bias, mask and map tensors (and an auxiliary loss nobody took).</summary>
    public void Dispose()
    {
        foreach (var t in owned)
            t.Dispose();
        owned.Clear();
        auxiliaryLoss?.Dispose();
        auxiliaryLoss = null;
    }
}
