// The encoder stack: shared token embedding, dropout, N blocks that share layer 0's relative-bias tables, final
// RMSNorm and dropout (T5.1.1).
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
        tables = CreateBiasTables(p.Sub("block").Sub(0).Sub("layer").Sub(0), config);
        foreach (var table in new[] { tables.Main, tables.Global, tables.Light, tables.Heavy })
        {
            if (table is not null)
                Own(table);
        }
        for (var i = 0; i < config.NumLayers; i++)
            layers.Add(Own(new EncoderLayer(p.Sub("block").Sub(i), config, dropout)));
        finalNorm = Own(new RmsNorm(p.Sub("final_layer_norm"), config.DModel, config.LayerNormEpsilon));
    }

    /// <summary>The relative-bias tables of the config's encoder type, under block 0's attention sub-layer
    /// <paramref name="layer0"/> (<c>encoder.block.0.layer.0</c>), drawn with std d^-0.5.</summary>
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
            return dropout.Forward(normed);
    }
}
