// The decoder stack: shared embedding, N T5.1.1 blocks with causal relative bias (table in block 0, shared),
// cross-attention over the encoder output, final RMSNorm and dropout. Steps can be run one token at a time.
using System;
using System.Collections.Generic;
using CoLT5.Model.Configuration;
using CoLT5.Nn;
using CoLT5.Nn.Modules;
using CoLT5.Tensors;

namespace CoLT5.Model.Layers;

/// <summary>Per-input decoding state: the encoder mask and every layer's cache.</summary>
public sealed class DecoderState : IDisposable
{
    internal DecoderState(Tensor crossMask, Tensor? crossKeyMask, LayerCache[] layers)
    {
        CrossMask = crossMask;
        CrossKeyMask = crossKeyMask;
        Layers = layers;
    }

    /// <summary>Additive encoder padding mask (B, 1, 1, n).</summary>
    public Tensor CrossMask { get; private set; }

    /// <summary>The same as (B, n) bool, true = real (what the fused cross-attention reads); null when no encoder
    /// token is padding.</summary>
    public Tensor? CrossKeyMask { get; private set; }

    /// <summary>One cache per decoder layer.</summary>
    public LayerCache[] Layers { get; }

    /// <summary>Tokens decoded so far (the position of the next one).</summary>
    public int Length { get; internal set; }

    /// <summary>Keeps rows <paramref name="rows"/> (int32) of every cached tensor, in that order (beam search).</summary>
    public void Select(Tensor rows)
    {
        foreach (var layer in Layers)
            layer.Select(rows);
        using var old = CrossMask;
        CrossMask = old.IndexSelect(0, rows);
        if (CrossKeyMask is not null)
        {
            using var oldKeys = CrossKeyMask;
            CrossKeyMask = oldKeys.IndexSelect(0, rows);
        }
    }

    /// <summary>Releases the caches.</summary>
    public void Dispose()
    {
        CrossMask.Dispose();
        CrossKeyMask?.Dispose();
        foreach (var layer in Layers)
            layer.Dispose();
    }
}

/// <summary>Decoder over <c>decoder.*</c> parameters.</summary>
public sealed class Decoder : Module
{
    private readonly ModelConfig config;
    private readonly Tensor embedding;
    private readonly List<DecoderLayer> layers = [];
    private readonly RelativeBias table;
    private readonly RmsNorm finalNorm;
    private readonly Dropout dropout;

    /// <summary>Creates the stack; <paramref name="embedding"/> is the shared (V, d) table.</summary>
    public Decoder(ParameterBuilder p, ModelConfig config, Tensor embedding, Dropout dropout)
    {
        ArgumentNullException.ThrowIfNull(config);
        this.config = config;
        this.embedding = embedding;
        this.dropout = Own(dropout);
        table = Own(new RelativeBias(p.Sub("block").Sub(0).Sub("layer").Sub(0).Sub("SelfAttention")
                .Sub("relative_attention_bias"), config.RelativeAttentionNumBuckets, config.NumHeads,
            config.RelativeAttentionMaxDistance, Math.Pow(config.DModel, -0.5)));
        for (var i = 0; i < config.NumDecoderLayers; i++)
            layers.Add(Own(new DecoderLayer(p.Sub("block").Sub(i), config, dropout)));
        finalNorm = Own(new RmsNorm(p.Sub("final_layer_norm"), config.DModel, config.LayerNormEpsilon));
    }

    /// <summary>Projects the encoder output (B, n, d) into every layer's cross keys/values, once per input.</summary>
    public DecoderState Start(Tensor encoderOutput, bool[] encoderMask)
    {
        ArgumentNullException.ThrowIfNull(encoderOutput);
        ArgumentNullException.ThrowIfNull(encoderMask);
        int batch = encoderOutput.Shape[0], n = encoderOutput.Shape[1];
        var caches = new LayerCache[layers.Count];
        for (var i = 0; i < layers.Count; i++)
        {
            var (k, v) = layers[i].CrossKeysValues(encoderOutput);
            caches[i] = new LayerCache { CrossKeys = k, CrossValues = v };
        }
        using var real = Tensor.FromArray<bool>(encoderMask, new Shape(batch, 1, 1, n), encoderOutput.Device);
        using var padding = real.Eq(0);
        using var zeros = Tensor.Zeros(new Shape(batch, 1, 1, n), encoderOutput.DType, encoderOutput.Device);
        var keyMask = Array.TrueForAll(encoderMask, r => r)
            ? null
            : Tensor.FromArray<bool>(encoderMask, new Shape(batch, n), encoderOutput.Device);
        return new DecoderState(zeros.MaskedFill(padding, EncoderContext.MinValue(encoderOutput.DType)), keyMask,
            caches);
    }

    /// <summary>
    /// Runs the next t tokens (B, t) after the <see cref="DecoderState.Length"/> already cached ones; returns the
    /// final hidden states (B, t, d) and advances the state.
    /// </summary>
    public Tensor Forward(Tensor ids, DecoderState state)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(state);
        int t = ids.Shape[1], past = state.Length;
        using var selfBias = CausalBias(t, past, ids.Device);
        using var embedded = Tensor.Embedding(embedding, ids);
        var x = dropout.Forward(embedded);
        for (var i = 0; i < layers.Count; i++)
        {
            using var previous = x;
            x = layers[i].Forward(previous, selfBias, state.CrossMask, state.Layers[i], new FusedCross(state.CrossKeyMask));
        }
        state.Length = past + t;
        using (x)
        using (var normed = finalNorm.Forward(x))
            return dropout.Forward(normed);
    }

    // (1, H, t, past + t): causal relative bias plus the future mask for queries at positions past..past+t−1.
    private Tensor CausalBias(int t, int past, Device device)
    {
        var total = past + t;
        using var bias = table.Full(t, total, bidirectional: false, queryOffset: past);
        if (t == 1)
            return bias.Contiguous();
        var future = new bool[t * total];
        for (var i = 0; i < t; i++)
        {
            for (var j = 0; j < total; j++)
                future[i * total + j] = j > past + i;
        }
        using var mask = Tensor.FromArray<bool>(future, new Shape(1, 1, t, total), device);
        return bias.MaskedFill(mask, EncoderContext.MinValue(bias.DType));
    }
}
