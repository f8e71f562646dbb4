// One encoder block: a pre-norm attention sub-layer of the configured type (or, for FNet and Sparse Mixer's lower
// layers, a token mixer in its place), then a pre-norm feed-forward sub-layer (dense, CoLT5's conditional one, or
// Sparse Mixer's experts-choose MoE), each added back to the residual stream after dropout.
using System;
using CoLT5.Model.Configuration;
using CoLT5.Nn;
using CoLT5.Nn.Modules;
using CoLT5.Tensors;

namespace CoLT5.Model.Layers;

/// <summary>Encoder block i: <c>encoder.block.i.layer.0</c> (attention) and <c>encoder.block.i.layer.1</c> (FF).</summary>
public sealed class EncoderLayer : Module
{
    private readonly RmsNorm attentionNorm, ffNorm;
    private readonly MultiHeadAttention? full;
    private readonly BlockedSelfAttention? blocked;
    private readonly ConditionalAttention? conditionalAttention;
    private readonly FeedForward? feedForward;
    private readonly ConditionalFeedForward? conditionalFeedForward;
    private readonly LinearMixing? linearMixing;
    private readonly ExpertsChooseFeedForward? moe;
    private readonly bool fourier;
    private readonly Dropout dropout;

    /// <summary>The Hugging Face module name of each encoder type's attention (Sparse Mixer's attention layers use
    /// T5's; FNet has none, and its mixing sub-layer no parameters).</summary>
    public static string AttentionName(EncoderType type) => type switch
    {
        EncoderType.T5 or EncoderType.SparseMixer => "SelfAttention",
        EncoderType.FNet => "Mixing",
        EncoderType.LongT5Local => "LocalSelfAttention",
        EncoderType.LongT5TGlobal => "TransientGlobalSelfAttention",
        _ => "LightAttention",
    };

    /// <summary>Creates block <c>p</c> = encoder.block.<paramref name="index"/> (the index picks Sparse Mixer's
    /// sub-layer kinds: <see cref="ModelConfig.HasAttention"/>, <see cref="ModelConfig.HasMoe"/>).</summary>
    public EncoderLayer(ParameterBuilder p, ModelConfig config, Dropout dropout, int index = 0)
    {
        ArgumentNullException.ThrowIfNull(config);
        this.dropout = Own(dropout);
        var attention = p.Sub("layer").Sub(0);
        attentionNorm = Own(new RmsNorm(attention.Sub("layer_norm"), config.DModel, config.LayerNormEpsilon));
        var type = config.Encoder;
        switch (type)
        {
            case EncoderType.FNet:
                fourier = true;                                    // parameter-free
                break;
            case EncoderType.SparseMixer when !config.HasAttention(index):
                linearMixing = Own(new LinearMixing(attention.Sub("Mixing"), config));
                break;
            case EncoderType.T5 or EncoderType.SparseMixer:
                full = Own(new MultiHeadAttention(attention.Sub(AttentionName(type)), config.DModel, config.NumHeads,
                    config.NumHeads, config.DKv, dropout));
                break;
            case EncoderType.LongT5Local or EncoderType.LongT5TGlobal:
                blocked = Own(new BlockedSelfAttention(attention.Sub(AttentionName(type)), config.DModel,
                    config.NumHeads, config.DKv, config.LayerNormEpsilon, type == EncoderType.LongT5TGlobal, dropout));
                break;
            default:
                conditionalAttention = Own(new ConditionalAttention(attention, config, dropout));
                break;
        }
        var ff = p.Sub("layer").Sub(1);
        ffNorm = Own(new RmsNorm(ff.Sub("layer_norm"), config.DModel, config.LayerNormEpsilon));
        if (type == EncoderType.CoLT5)
            conditionalFeedForward = Own(new ConditionalFeedForward(ff, config, dropout));
        else if (config.HasMoe(index))
            moe = Own(new ExpertsChooseFeedForward(ff.Sub("MoE"), config, dropout));
        else
            feedForward = Own(new FeedForward(ff.Sub("DenseReluDense"), config, config.DFf, dropout));
    }

    /// <summary>x (B, n, d) → (B, n, d).</summary>
    public Tensor Forward(Tensor x, EncoderContext context)
    {
        Tensor attended;
        using (var h = attentionNorm.Forward(x))
        {
            attended = full is not null ? FullAttention(full, h, context)
                : blocked is not null ? blocked.Forward(h, context)
                : conditionalAttention is not null ? conditionalAttention.Forward(h, context)
                : fourier ? FourierMixing.Forward(h, context)
                : linearMixing!.Forward(h, context);
        }
        using (attended)
        using (var droppedAttention = dropout.Forward(attended))
        using (var afterAttention = x + droppedAttention)
        using (var h2 = ffNorm.Forward(afterAttention))
        using (var ffOut = FeedForwardOf(h2, context))
        using (var droppedFf = dropout.Forward(ffOut))
            return afterAttention + droppedFf;
    }

    // The feed-forward sub-layer of this block's kind on the normed input.
    private Tensor FeedForwardOf(Tensor h, EncoderContext context) =>
        feedForward is not null ? feedForward.Forward(h)
        : moe is not null ? moe.Forward(h, context)
        : conditionalFeedForward!.Forward(h, context);

    // T5 full self-attention: fused (bucketed bias and padding mask in the kernel) unless attention dropout is on.
    private static Tensor FullAttention(MultiHeadAttention attention, Tensor h, EncoderContext context) =>
        attention.FusedOn(h.Device)
            ? attention.Attend(h, (k, v) => context.SelfKeys(k, v, context.SelfTable, int.MaxValue))
            : attention.Forward(h, context.FullBias);
}
