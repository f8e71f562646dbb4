// CoLT5 conditional attention (spec §2.3): light local attention on every token plus heavy full attention from q
// routed queries over v routed keys/values (kv inputs scaled by their router weights), the heavy output weighted by
// the query router and scattered back; T5 relative bias on the routed tokens' original positions (D9).
using System;
using CoLT5.Model.Configuration;
using CoLT5.Nn;
using CoLT5.Nn.Functional;
using CoLT5.Nn.Modules;
using CoLT5.Tensors;

namespace CoLT5.Model.Layers;

/// <summary>Light + routed heavy attention (names LightAttention, HeavyAttention, q_router, kv_router).</summary>
public sealed class ConditionalAttention : Module
{
    private readonly BlockedSelfAttention light;
    private readonly MultiHeadAttention heavy;
    private readonly Router queryRouter, kvRouter;
    private readonly ModelConfig config;
    private readonly Tensor? nullOutput;

    /// <summary>Creates both branches and both routers under <paramref name="p"/> (the attention sub-layer).</summary>
    public ConditionalAttention(ParameterBuilder p, ModelConfig config, Dropout dropout)
    {
        this.config = config;
        light = Own(new BlockedSelfAttention(p.Sub("LightAttention"), config.DModel, config.LightHeads, config.DKv,
            config.LayerNormEpsilon, transientGlobal: false, dropout));
        heavy = Own(new MultiHeadAttention(p.Sub("HeavyAttention"), config.DModel, config.HeavyHeads, config.HeavyHeads,
            config.DKv, dropout));
        queryRouter = Own(new Router(p.Sub("q_router"), config));
        kvRouter = Own(new Router(p.Sub("kv_router"), config));
        if (config.RouterNullOutput)
            nullOutput = p.Sub("HeavyAttention").Sub("null_output").Get("weight", new Shape(config.DModel), Init.Zeros);
    }

    /// <summary>h: the normed input (B, n, d) → light + heavy output (B, n, d).</summary>
    public Tensor Forward(Tensor h, EncoderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // light local attention sees every token
        using var lightOut = light.Forward(h, context);
        // separate routers pick the tokens that need information (queries) and that hold it (keys/values)
        using var queries = queryRouter.Forward(h, context, config.QueryTokens);
        using var keyValues = kvRouter.Forward(h, context, config.KeyValueTokens);
        context.Observe(RouterKind.Query, queries);
        context.Observe(RouterKind.KeyValue, keyValues);
        using var heavyRows = HeavyRows(h, queries, keyValues, context);       // (B·q, d)
        using var heavyOut = RoutedBranch.Scatter(heavyRows, queries, h);       // weighted by the query router
        if (nullOutput is null)
            return lightOut + heavyOut;
        using var withNull = AddNullOutput(heavyOut, queries, context);
        return lightOut + withNull;
    }

    // Heavy attention of the routed queries over the routed keys/values: (B·q, d), unweighted.
    private Tensor HeavyRows(Tensor h, Route queries, Route keyValues, EncoderContext context)
    {
        int batch = h.Shape[0], d = h.Shape[2];
        using var qRows = RoutedBranch.Gather(h, queries);
        using var qInput = qRows.Reshape(batch, queries.Slots, d);
        using var kvRows = RoutedBranch.Gather(h, keyValues);
        using var kvInput = kvRows.Reshape(batch, keyValues.Slots, d);
        using var kvWeights = keyValues.Weights.Unsqueeze(-1);                  // (B, v, 1)
        Tensor keys, values;
        if (config.RouterKvScaling == "values")
        {
            var (k, v) = heavy.KeysValues(kvInput);
            using (v)
            {
                keys = k;
                using var w = keyValues.Weights.Unsqueeze(1).Unsqueeze(-1);     // (B, 1, v, 1)
                values = v * w;
            }
        }
        else
        {
            // literal reading of A_heavy(X_i, s̃ᵏᵛ·X): the kv inputs are scaled, so both K and V carry the weight
            using var scaled = kvInput * kvWeights;
            (keys, values) = heavy.KeysValues(scaled);
        }
        using (keys)
        using (values)
        {
            if (heavy.FusedOn(h.Device))
            {
                // routed keys at their original positions, padding slots masked, the heavy table in the kernel
                var table = context.HeavyTable ?? throw new InvalidOperationException("the heavy bias table is missing");
                using var keyPositions = Positions(keyValues, h.Device);
                using var queryPositions = Positions(queries, h.Device);
                using var valid = Valid(keyValues, h.Device);
                var set = new AttentionKeySet(keys, values)
                {
                    KeyMask = valid,
                    KeyPositions = keyPositions,
                    QueryPositions = queryPositions,
                    Bias = context.Bucketed(table),
                };
                using var routed = heavy.Attend(qInput, set);                      // (B, q, d)
                return routed.Reshape(batch * queries.Slots, d);
            }
            using var bias = HeavyBias(queries, keyValues, context, h.DType);
            using var output = heavy.Forward(qInput, keys, values, bias);      // (B, q, d)
            return output.Reshape(batch * queries.Slots, d);
        }
    }

    // Routed slots' original positions (B, slots) and, unless every slot is real, their validity.
    private static Tensor Positions(Route route, Device device) =>
        Tensor.FromArray<int>(route.Positions, new Shape(route.Batch, route.Slots), device);

    private static Tensor? Valid(Route route, Device device) => Array.TrueForAll(route.SlotValid, real => real)
        ? null
        : Tensor.FromArray<bool>(route.SlotValid, new Shape(route.Batch, route.Slots), device);

    // Relative bias from the routed tokens' original positions, plus −1e10 on padding kv slots: (B, H, q, v).
    private Tensor HeavyBias(Route queries, Route keyValues, EncoderContext context, DType dtype)
    {
        int batch = queries.Batch, q = queries.Slots, v = keyValues.Slots;
        var relative = new int[batch * q * v];
        var allowed = new bool[batch * v];
        for (var b = 0; b < batch; b++)
        {
            for (var j = 0; j < v; j++)
                allowed[b * v + j] = keyValues.SlotValid[b * v + j];
            for (var i = 0; i < q; i++)
            {
                for (var j = 0; j < v; j++)
                    relative[(b * q + i) * v + j] = keyValues.Positions[b * v + j] - queries.Positions[b * q + i];
            }
        }
        var table = context.HeavyTable ?? throw new InvalidOperationException("the heavy relative bias table is missing");
        using var bias = table.FromOffsets(relative, batch, q, v, bidirectional: true);     // (B, H, q, v)
        using var keysReal = Tensor.FromArray<bool>(allowed, new Shape(batch, 1, 1, v), bias.Device);
        using var blocked = keysReal.Eq(0);
        using var zeros = Tensor.Zeros(new Shape(batch, 1, 1, v), dtype, bias.Device);
        using var mask = zeros.MaskedFill(blocked, EncoderContext.MaskValue);
        return bias + mask;
    }

    // D7 option: a learned output for real tokens that were not routed as queries. Padding gets nothing, so padded
    // positions stay exactly what they would be without the option (heavy output 0 there).
    private Tensor AddNullOutput(Tensor heavyOut, Route queries, EncoderContext context)
    {
        int batch = heavyOut.Shape[0], n = heavyOut.Shape[1];
        var unrouted = new double[batch * n];
        for (var i = 0; i < unrouted.Length; i++)
            unrouted[i] = context.Mask[i] ? 1.0 : 0.0;
        for (var s = 0; s < queries.Positions.Length; s++)
        {
            if (queries.SlotValid[s])
                unrouted[s / queries.Slots * n + queries.Positions[s]] = 0;
        }
        using var flags = Tensor.FromArray<double>(unrouted, new Shape(batch, n, 1), heavyOut.Device);
        using var typed = flags.To(heavyOut.DType);
        using var fill = typed * nullOutput!;
        return heavyOut + fill;
    }
}
