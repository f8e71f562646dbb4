// One decoder block (T5.1.1): causal self-attention with a key/value cache, cross-attention over the encoder
// output with G key/value heads (1 = MQA), and a feed-forward sub-layer; all pre-norm with residuals.
using System;
using CoLT5.Model.Configuration;
using CoLT5.Nn;
using CoLT5.Nn.Functional;
using CoLT5.Nn.Modules;
using CoLT5.Tensors;

namespace CoLT5.Model.Layers;

/// <summary>The encoder key mask (B, n) for a fused cross-attention; a null mask means no padding.</summary>
public sealed record FusedCross(Tensor? KeyMask);

/// <summary>Cached keys and values of one decoder layer: self-attention (growing) and cross-attention (fixed).</summary>
public sealed class LayerCache : IDisposable
{
    /// <summary>Self-attention keys (B, H, t, dk), or null before the first step.</summary>
    public Tensor? SelfKeys { get; set; }

    /// <summary>Self-attention values (B, H, t, dk).</summary>
    public Tensor? SelfValues { get; set; }

    /// <summary>Cross-attention keys of the encoder output (B, G, n, dk).</summary>
    public Tensor? CrossKeys { get; set; }

    /// <summary>Cross-attention values (B, G, n, dk).</summary>
    public Tensor? CrossValues { get; set; }

    /// <summary>Keeps rows <paramref name="rows"/> of every cached tensor (beam search reordering).</summary>
    public void Select(Tensor rows)
    {
        SelfKeys = Pick(SelfKeys, rows);
        SelfValues = Pick(SelfValues, rows);
        CrossKeys = Pick(CrossKeys, rows);
        CrossValues = Pick(CrossValues, rows);
    }

    private static Tensor? Pick(Tensor? t, Tensor rows)
    {
        if (t is null)
            return null;
        using (t)
            return t.IndexSelect(0, rows);
    }

    /// <summary>Releases the cached tensors.</summary>
    public void Dispose()
    {
        SelfKeys?.Dispose();
        SelfValues?.Dispose();
        CrossKeys?.Dispose();
        CrossValues?.Dispose();
    }
}

/// <summary>Decoder block i: <c>decoder.block.i.layer.{0,1,2}</c>.</summary>
public sealed class DecoderLayer : Module
{
    private readonly RmsNorm selfNorm, crossNorm, ffNorm;
    private readonly MultiHeadAttention selfAttention, crossAttention;
    private readonly FeedForward feedForward;
    private readonly Dropout dropout;

    /// <summary>Creates block <c>p</c> = decoder.block.i.</summary>
    public DecoderLayer(ParameterBuilder p, ModelConfig config, Dropout dropout)
    {
        ArgumentNullException.ThrowIfNull(config);
        this.dropout = Own(dropout);
        var layer = p.Sub("layer");
        selfNorm = Own(new RmsNorm(layer.Sub(0).Sub("layer_norm"), config.DModel, config.LayerNormEpsilon));
        selfAttention = Own(new MultiHeadAttention(layer.Sub(0).Sub("SelfAttention"), config.DModel, config.NumHeads,
            config.NumHeads, config.DKv, dropout));
        crossNorm = Own(new RmsNorm(layer.Sub(1).Sub("layer_norm"), config.DModel, config.LayerNormEpsilon));
        crossAttention = Own(new MultiHeadAttention(layer.Sub(1).Sub("EncDecAttention"), config.DModel, config.NumHeads,
            config.NumCrossKvHeads, config.DKv, dropout));
        ffNorm = Own(new RmsNorm(layer.Sub(2).Sub("layer_norm"), config.DModel, config.LayerNormEpsilon));
        feedForward = Own(new FeedForward(layer.Sub(2).Sub("DenseReluDense"), config, config.DFf, dropout));
    }

    /// <summary>Projects the encoder output into this layer's cross-attention keys and values (once per input).</summary>
    public (Tensor K, Tensor V) CrossKeysValues(Tensor encoderOutput) => crossAttention.KeysValues(encoderOutput);

    /// <summary>
    /// x (B, t, d) → (B, t, d). <paramref name="selfBias"/>: causal relative bias plus mask, (1, H, t, t_total);
    /// <paramref name="crossMask"/>: additive encoder padding mask (B, 1, 1, n). With a cache, the new keys/values
    /// are appended to it and the cross keys/values are read from it. With <paramref name="fusedCross"/>,
    /// cross-attention may run through the fused kernel with its (B, n) key mask instead of the additive one.
    /// </summary>
    public Tensor Forward(Tensor x, Tensor selfBias, Tensor crossMask, LayerCache cache, FusedCross? fusedCross = null)
    {
        ArgumentNullException.ThrowIfNull(cache);
        Tensor selfOut;
        using (var h = selfNorm.Forward(x))
        {
            var (k, v) = selfAttention.KeysValues(h);
            if (cache.SelfKeys is not null)
            {
                using var newK = k;
                using var newV = v;
                using var oldK = cache.SelfKeys;
                using var oldV = cache.SelfValues!;
                k = Tensor.Cat([oldK, newK], 2);
                v = Tensor.Cat([oldV, newV], 2);
            }
            cache.SelfKeys = k;
            cache.SelfValues = v;
            selfOut = selfAttention.Forward(h, k, v, selfBias);
        }
        using (selfOut)
        using (var droppedSelf = dropout.Forward(selfOut))
        using (var afterSelf = x + droppedSelf)
        using (var h2 = crossNorm.Forward(afterSelf))
        using (var crossOut = fusedCross is not null && crossAttention.FusedOn(x.Device)
            ? crossAttention.Attend(h2, new AttentionKeySet(cache.CrossKeys!, cache.CrossValues!) { KeyMask = fusedCross.KeyMask })
            : crossAttention.Forward(h2, cache.CrossKeys!, cache.CrossValues!, crossMask))
        using (var droppedCross = dropout.Forward(crossOut))
        using (var afterCross = afterSelf + droppedCross)
        using (var h3 = ffNorm.Forward(afterCross))
        using (var ffOut = feedForward.Forward(h3))
        using (var droppedFf = dropout.Forward(ffOut))
            return afterCross + droppedFf;
    }
}
