// The encoder stack: shared token embedding, dropout, N blocks that share one block's relative-bias tables (layer 0,
// or Sparse Mixer's first attention layer), final RMSNorm and dropout (T5.1.1); it also returns the auxiliary loss
// its layers recorded (Sparse Mixer's router z-loss).
using System;
using System.Collections.Generic;
using CoLT5.Model.Configuration;
using CoLT5.Nn;
using CoLT5.Nn.Modules;
using CoLT5.Tensors;

namespace CoLT5.Model.Layers;

/// <summary>Encoder over <c>encoder.*</c> parameters.</summary>
public sealed class Encoder : Module
{
    private readonly ModelConfig config;
    private readonly Tensor embedding;
    private readonly List<EncoderLayer> layers = [];
    private readonly RmsNorm finalNorm;
    private readonly Dropout dropout;
    private readonly EncoderBiasTables tables;

    /// <summary>Creates the stack; <paramref name="embedding"/> is the shared (V, d) table.</summary>
    public Encoder(ParameterBuilder p, ModelConfig config, Tensor embedding, Dropout dropout)
    {
        ArgumentNullException.ThrowIfNull(config);
        this.config = config;
        this.embedding = embedding;
        this.dropout = Own(dropout);
        tables = CreateBiasTables(p.Sub("block").Sub(BiasTableBlock(config)).Sub("layer").Sub(0), config);
        foreach (var table in new[] { tables.Main, tables.Global, tables.Light, tables.Heavy })
        {
            if (table is not null)
                Own(table);
        }
        for (var i = 0; i < config.NumLayers; i++)
            layers.Add(Own(new EncoderLayer(p.Sub("block").Sub(i), config, dropout, i)));
        finalNorm = Own(new RmsNorm(p.Sub("final_layer_norm"), config.DModel, config.LayerNormEpsilon));
    }

    /// <summary>The block whose attention sub-layer owns the relative-bias tables: 0, except for Sparse Mixer, whose
    /// first attention layer (L − attention_layers) owns its table.</summary>
    public static int BiasTableBlock(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.Encoder == EncoderType.SparseMixer && config.SparseAttentionLayers > 0
            ? config.NumLayers - config.SparseAttentionLayers
            : 0;
    }

    /// <summary>The relative-bias tables of the config's encoder type, under the attention sub-layer
    /// <paramref name="layer0"/> of block <see cref="BiasTableBlock"/> (<c>encoder.block.i.layer.0</c>), drawn with
    /// std d^-0.5. FNet has none; Sparse Mixer has T5's one table if it has attention layers.</summary>
    public static EncoderBiasTables CreateBiasTables(ParameterBuilder layer0, ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var std = Math.Pow(config.DModel, -0.5);
        RelativeBias Table(string module, string name, int heads) =>
            new(layer0.Sub(module).Sub(name), config.RelativeAttentionNumBuckets, heads,
                config.RelativeAttentionMaxDistance, std);
        var type = config.Encoder;
        var attention = EncoderLayer.AttentionName(type);
        return type switch
        {
            EncoderType.T5 or EncoderType.LongT5Local =>
                new EncoderBiasTables(Table(attention, "relative_attention_bias", config.NumHeads), null, null, null),
            EncoderType.LongT5TGlobal => new EncoderBiasTables(
                Table(attention, "relative_attention_bias", config.NumHeads),
                Table(attention, "global_relative_attention_bias", config.NumHeads), null, null),
            EncoderType.SparseMixer => new EncoderBiasTables(config.SparseAttentionLayers > 0
                ? Table(attention, "relative_attention_bias", config.NumHeads)
                : null, null, null, null),
            EncoderType.FNet => new EncoderBiasTables(null, null, null, null),
            _ => new EncoderBiasTables(null, null,
                Table("LightAttention", "relative_attention_bias", config.LightHeads),
                Table("HeavyAttention", "relative_attention_bias", config.HeavyHeads)),
        };
    }

    /// <summary>ids (B, n) int32 and the padding mask (B·n, true = real) → hidden states (B, n, d).</summary>
    public Tensor Forward(Tensor ids, bool[] mask) => Forward(ids, mask, null);

    /// <summary>
    /// ids (B, n) int32 and the padding mask (B·n, true = real) → hidden states (B, n, d), reporting every routing
    /// decision to <paramref name="observer"/> when one is given (CoLT5; other encoder types have no routers and
    /// report nothing). Observing never changes the output.
    /// </summary>
    public Tensor Forward(Tensor ids, bool[] mask, IRoutingObserver? observer)
    {
        var (hidden, auxiliary) = ForwardWithAuxiliaryLoss(ids, mask, observer);
        auxiliary?.Dispose();
        return hidden;
    }

    /// <summary>
    /// <see cref="Forward(Tensor, bool[], IRoutingObserver?)"/> plus the auxiliary loss its layers recorded (0-d, already weighted; null when none):
    /// the router z-loss of Sparse Mixer's MoE layers in training mode, summed over layers. Routing decisions go to
    /// <paramref name="observer"/> when one is given.
    /// </summary>
    public (Tensor Hidden, Tensor? AuxiliaryLoss) ForwardWithAuxiliaryLoss(Tensor ids, bool[] mask,
        IRoutingObserver? observer = null)
    {
        ArgumentNullException.ThrowIfNull(ids);
        int batch = ids.Shape[0], n = ids.Shape[1];
        using var context = EncoderContext.Build(config, mask, batch, n, tables, embedding.DType, embedding.Device);
        context.RoutingObserver = observer;
        using var embedded = Tensor.Embedding(embedding, ids);
        var x = dropout.Forward(embedded);
        for (var i = 0; i < layers.Count; i++)
        {
            using var previous = x;
            context.Layer = i;
            x = layers[i].Forward(previous, context);
        }
        using (x)
        using (var normed = finalNorm.Forward(x))
            return (dropout.Forward(normed), context.TakeAuxiliaryLoss());
    }
}
