// T5 / LongT5 → CoLT5 initialisation: a CoLT5 model whose embeddings, decoder, norms and LM head are the dense
// model's, whose light and heavy branches split the dense encoder's attention heads and feed-forward units between
// them (so a token routed with weight 1 sees the dense layer's heads and units again), and whose routers are fresh.
// docs/conversion.md explains the choices; the model then needs uptraining (`colt5 train --uptrain`).
using System;
using System.Collections.Generic;
using CoLT5.Model.Configuration;
using CoLT5.Model.Layers;
using CoLT5.Nn;
using CoLT5.Tensors;
using CoLT5.Tensors.Random;

namespace CoLT5.Model.Conversion;

/// <summary>Sizes of the CoLT5 model <see cref="CoLT5Initialization.FromDense"/> builds; null takes the default.</summary>
public sealed record CoLT5ConversionOptions
{
    /// <summary>Light (local) attention heads: the dense model's first L heads (default max(1, H/3), as the presets).</summary>
    public int? LightHeads { get; init; }

    /// <summary>Light FF width: the dense FF's first units (default d_ff / 2).</summary>
    public int? DFfLight { get; init; }

    /// <summary>Heavy FF width (default 4·d_ff); its first d_ff − d_ff_light units are the dense FF's others.</summary>
    public int? DFfHeavy { get; init; }

    /// <summary>Light attention radius (default: a LongT5 source's, else 127).</summary>
    public int? LocalRadius { get; init; }

    /// <summary>Seed of the fresh parameters (routers, the heavy FF's extra units).</summary>
    public ulong Seed { get; init; } = 1;
}

/// <summary>Builds a CoLT5 model from a dense T5 or LongT5 one.</summary>
public static class CoLT5Initialization
{
    /// <summary>
    /// A new CoLT5 model (same dtype and device) initialised from <paramref name="source"/>, a T5 or LongT5 model:
    /// <list type="bullet">
    /// <item>copied: shared embedding, LM head, the whole decoder, every encoder layer norm, the final norm;</item>
    /// <item>attention: light heads = the dense heads 0…L−1 (rows of q, k, v; columns of o), heavy heads = the heads
    /// L…H−1; block 0's relative-bias table split the same way (a TGlobal source's global table and global norm
    /// have no counterpart and are dropped);</item>
    /// <item>feed-forward: light units = the dense units 0…d_ff_light−1, the heavy FF's first d_ff − d_ff_light
    /// units = the dense units d_ff_light…d_ff−1; its other units get fresh input weights and zero output weights,
    /// so they add nothing until trained;</item>
    /// <item>fresh: the FF, query and key/value routers.</item>
    /// </list>
    /// A token routed to both branches with weight 1 thus sees every dense head and unit; an unrouted token sees the
    /// light share only, which uptraining makes up for.
    /// </summary>
    /// <exception cref="ArgumentException">The source is already CoLT5, or the sizes cannot split it (light heads
    /// must leave at least one heavy head, d_ff_light must be below d_ff, and the heavy FF must hold the rest).</exception>
    public static Seq2SeqModel FromDense(Seq2SeqModel source, CoLT5ConversionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        options ??= new CoLT5ConversionOptions();
        var dense = source.Config;
        if (dense.Encoder == EncoderType.CoLT5)
            throw new ArgumentException("the source is already a CoLT5 model", nameof(source));
        var heads = dense.NumHeads;
        var light = options.LightHeads ?? Math.Max(1, heads / 3);
        var dffLight = options.DFfLight ?? dense.DFf / 2;
        var dffHeavy = options.DFfHeavy ?? 4 * dense.DFf;
        if (light < 1 || light >= heads)
            throw new ArgumentException($"light heads must be 1…{heads - 1} to leave heavy heads, got {light}", nameof(options));
        if (dffLight < 1 || dffLight >= dense.DFf)
            throw new ArgumentException($"d_ff_light must be 1…{dense.DFf - 1}, got {dffLight}", nameof(options));
        if (dffHeavy < dense.DFf - dffLight)
            throw new ArgumentException($"d_ff_heavy must hold the dense FF's other {dense.DFf - dffLight} units, " +
                $"got {dffHeavy}", nameof(options));
        var defaults = new ModelConfig();
        var config = (dense with
        {
            ModelType = "colt5",
            EncoderAttentionType = "conditional",
            LightHeads = light,
            HeavyHeads = heads - light,
            DFfLight = dffLight,
            DFfHeavy = dffHeavy,
            LocalRadius = options.LocalRadius ?? (dense.Encoder == EncoderType.T5 ? 127 : dense.LocalRadius),
            RoutedFfTokens = defaults.RoutedFfTokens,
            RoutedQTokens = defaults.RoutedQTokens,
            RoutedKvTokens = defaults.RoutedKvTokens,
            RouterEps = defaults.RouterEps,
            RouterIters = defaults.RouterIters,
            RouterEpsInit = defaults.RouterEpsInit,
            RouterEpsDecay = defaults.RouterEpsDecay,
            RouterKRatio = defaults.RouterKRatio,
            RouterStraightThrough = defaults.RouterStraightThrough,
            RouterKvScaling = defaults.RouterKvScaling,
            RouterNullOutput = defaults.RouterNullOutput,
        }).Validate();

        var generator = new Generator(options.Seed);
        var store = new ParameterStore(source.Parameters.DType, source.Parameters.Device, generator);
        try
        {
            using (Tensor.NoGrad())
            {
                var attention = EncoderLayer.AttentionName(dense.Encoder);
                var split = new Split(dense, config, generator);
                foreach (var (name, tensor) in source.Parameters.Parameters)
                {
                    foreach (var (target, value) in split.Map(name, tensor, attention))
                        store.Add(target, value);
                }
            }
            var model = new Seq2SeqModel(config, store);
            foreach (var created in store.Created)
            {
                if (!created.Contains("router", StringComparison.Ordinal))
                    throw new InvalidOperationException($"conversion left {created} uninitialised");
            }
            return model;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    // Maps one dense parameter to its CoLT5 parameters.
    private sealed class Split(ModelConfig dense, ModelConfig colt5, Generator generator)
    {
        private readonly int lightRows = colt5.LightHeads * dense.DKv;
        private readonly int heavyRows = colt5.HeavyHeads * dense.DKv;
        private readonly int denseRest = dense.DFf - colt5.DFfLight;

        public IEnumerable<(string Name, Tensor Value)> Map(string name, Tensor w, string attention)
        {
            if (!name.StartsWith("encoder.block.", StringComparison.Ordinal))
            {
                yield return (name, w.ContiguousCopy());
                yield break;
            }
            var layer = name.IndexOf(".layer.", StringComparison.Ordinal);
            var prefix = name[..(layer + ".layer.0.".Length)];       // encoder.block.i.layer.j.
            var leaf = name[prefix.Length..];
            if (leaf == "layer_norm.weight")
            {
                yield return (name, w.ContiguousCopy());
            }
            else if (leaf.StartsWith(attention + ".", StringComparison.Ordinal))
            {
                var part = leaf[(attention.Length + 1)..];
                switch (part)
                {
                    case "q.weight" or "k.weight" or "v.weight":           // (H·dk, d): heads are row blocks
                        yield return (prefix + "LightAttention." + part, w.Narrow(0, 0, lightRows).ContiguousCopy());
                        yield return (prefix + "HeavyAttention." + part, w.Narrow(0, lightRows, heavyRows).ContiguousCopy());
                        break;
                    case "o.weight":                                       // (d, H·dk): heads are column blocks
                        yield return (prefix + "LightAttention." + part, w.Narrow(1, 0, lightRows).ContiguousCopy());
                        yield return (prefix + "HeavyAttention." + part, w.Narrow(1, lightRows, heavyRows).ContiguousCopy());
                        break;
                    case "relative_attention_bias.weight":                 // (buckets, H): heads are columns
                        yield return (prefix + "LightAttention." + part, w.Narrow(1, 0, colt5.LightHeads).ContiguousCopy());
                        yield return (prefix + "HeavyAttention." + part,
                            w.Narrow(1, colt5.LightHeads, colt5.HeavyHeads).ContiguousCopy());
                        break;
                    case "global_relative_attention_bias.weight" or "global_input_layer_norm.weight":
                        break;                                             // TGlobal only: no CoLT5 counterpart
                    default:
                        throw new InvalidOperationException($"no CoLT5 counterpart for {name}");
                }
            }
            else if (leaf.StartsWith("DenseReluDense.", StringComparison.Ordinal))
            {
                var part = leaf["DenseReluDense.".Length..];
                if (part == "wo.weight")                                   // (d, d_ff): units are columns
                {
                    yield return (prefix + "LightFF." + part, w.Narrow(1, 0, colt5.DFfLight).ContiguousCopy());
                    using var rest = w.Narrow(1, colt5.DFfLight, denseRest);
                    using var zeros = Tensor.Zeros(new Shape(dense.DModel, colt5.DFfHeavy - denseRest), w.DType, w.Device);
                    yield return (prefix + "HeavyFF." + part, Tensor.Cat([rest, zeros], 1));
                }
                else                                                       // wi, wi_0, wi_1: (d_ff, d), units are rows
                {
                    yield return (prefix + "LightFF." + part, w.Narrow(0, 0, colt5.DFfLight).ContiguousCopy());
                    using var rest = w.Narrow(0, colt5.DFfLight, denseRest);
                    using var fresh = Tensor.RandN(new Shape(colt5.DFfHeavy - denseRest, dense.DModel), generator, 0,
                        Math.Pow(dense.DModel, -0.5), w.DType, w.Device);
                    yield return (prefix + "HeavyFF." + part, Tensor.Cat([rest, fresh], 0));
                }
            }
            else
            {
                throw new InvalidOperationException($"no CoLT5 counterpart for {name}");
            }
        }
    }
}
