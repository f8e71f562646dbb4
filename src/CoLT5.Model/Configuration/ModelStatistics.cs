// Analytic model statistics from a configuration alone (nothing is allocated, so XL is instant): parameter counts,
// counted as the spec §3.3 does and in full, and encoder-layer FLOPs by the spec §4.1 formulas (and their FNet and
// Sparse Mixer analogues) plus a breakdown.
using System;
using System.Collections.Generic;
using System.Linq;

namespace CoLT5.Model.Configuration;

/// <summary>
/// Parameter counts by kind. <see cref="WeightMatrices"/> counts the embedding, the LM head and every projection
/// matrix; <see cref="Total"/> adds RMSNorm scales, router vectors, relative-bias tables and the optional null
/// output, and equals the element count of a built model's <c>ParameterStore</c>. The spec §3.3 table (CoLT5
/// Base / Large / XL = 432.8M / 1462.7M / 5297.3M) is reproduced by <see cref="Total"/>; the matrices alone are
/// 432.7M / 1462.5M / 5296.9M. Rounded to millions both give the paper's 433M and 5297M for Base and XL, but 1463M
/// for Large (1,462,701,056 and 1,462,501,376): the paper's 1462M matches truncation, not rounding.
/// </summary>
/// <param name="Embedding">The shared input embedding (V·d).</param>
/// <param name="LmHead">The untied LM head (V·d; 0 when tied).</param>
/// <param name="EncoderMatrices">Encoder attention and feed-forward matrices (with Sparse Mixer's experts and its
/// linear-mixing kernels).</param>
/// <param name="DecoderMatrices">Decoder self-, cross-attention and feed-forward matrices.</param>
/// <param name="Norms">RMSNorm scales (every sub-block, final norms, the TGlobal global norm).</param>
/// <param name="Routers">CoLT5 router vectors (three per encoder layer) and null-output vectors; Sparse Mixer's MoE
/// routers (weight and bias).</param>
/// <param name="BiasTables">Relative-position bias tables (owned by layer 0 of each stack).</param>
public sealed record ParameterCount(long Embedding, long LmHead, long EncoderMatrices, long DecoderMatrices,
    long Norms, long Routers, long BiasTables)
{
    /// <summary>Weight matrices only (embedding, LM head, projections).</summary>
    public long WeightMatrices => Embedding + LmHead + EncoderMatrices + DecoderMatrices;

    /// <summary>Every parameter element (the count of the spec §3.3 table).</summary>
    public long Total => WeightMatrices + Norms + Routers + BiasTables;
}

/// <summary>One named term of a FLOP count.</summary>
/// <param name="Name">What the term counts.</param>
/// <param name="Expression">The term as a formula of the configuration.</param>
/// <param name="Flops">Its value.</param>
public sealed record FlopTerm(string Name, string Expression, double Flops);

/// <summary>
/// FLOPs of one encoder layer at length n, counted as the paper does (one multiply-add = one FLOP; projections and
/// feed-forwards n·d_in·d_out, attention 2·queries·keys·width for scores plus weighted sum).
/// </summary>
/// <param name="Length">The input length n.</param>
/// <param name="Formula">The spec §4.1 formula for this encoder type, written out.</param>
/// <param name="FormulaFlops">The formula's value at d = d_model (paper idealisation: d_ff = 4d, 2-matrix FF).</param>
/// <param name="Terms">The same layer counted from this configuration's actual widths, heads and routed counts.</param>
public sealed record LayerFlops(int Length, string Formula, double FormulaFlops, IReadOnlyList<FlopTerm> Terms)
{
    /// <summary>Sum of <see cref="Terms"/>.</summary>
    public double BreakdownFlops
    {
        get
        {
            var sum = 0.0;
            foreach (var t in Terms)
                sum += t.Flops;
            return sum;
        }
    }
}

/// <summary>Parameter and FLOP counts computed from a <see cref="ModelConfig"/> without building the model.</summary>
public static class ModelStatistics
{
    /// <summary>Counts the parameters the model built from <paramref name="config"/> has, by kind.</summary>
    public static ParameterCount Parameters(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        long d = config.DModel, kv = config.DKv, h = config.NumHeads;
        long buckets = config.RelativeAttentionNumBuckets;
        var ffMatrices = config.ReluFeedForward ? 2L : 3L;
        long encoderMatrices, encoderNorms, routers = 0, encoderTables;
        switch (config.Encoder)
        {
            case EncoderType.FNet:
                encoderMatrices = ffMatrices * d * config.DFf;          // Fourier mixing has no parameters
                encoderNorms = 2 * d;
                encoderTables = 0;
                break;
            case EncoderType.SparseMixer:
                // the layers' kinds differ: sum them
                long total = 0;
                for (var i = 0; i < config.NumLayers; i++)
                {
                    total += config.HasAttention(i)
                        ? 4 * d * h * kv
                        : (long)config.MixingLength * config.MixingLength + d * d;      // seq and hidden kernels
                    total += (config.HasMoe(i) ? config.NumExperts : 1) * ffMatrices * d * config.DFf;
                    if (config.HasMoe(i))
                        routers += config.NumExperts * (d + 1);                           // router weight and bias
                }
                return Assemble(config, total, 2 * d, routers, config.SparseAttentionLayers > 0 ? buckets * h : 0);
            case EncoderType.CoLT5:
                long light = config.LightHeads * kv, heavy = config.HeavyHeads * kv;
                encoderMatrices = 4 * d * light + 4 * d * heavy + ffMatrices * d * (config.DFfLight + config.DFfHeavy);
                encoderNorms = 2 * d;
                routers = config.NumLayers * (3 * d + (config.RouterNullOutput ? d : 0));
                encoderTables = buckets * (config.LightHeads + config.HeavyHeads);
                break;
            case EncoderType.LongT5TGlobal:
                encoderMatrices = 4 * d * h * kv + ffMatrices * d * config.DFf;
                encoderNorms = 3 * d;                                   // + global_input_layer_norm
                encoderTables = 2 * buckets * h;                        // local and global tables
                break;
            default:
                encoderMatrices = 4 * d * h * kv + ffMatrices * d * config.DFf;
                encoderNorms = 2 * d;
                encoderTables = buckets * h;
                break;
        }
        return Assemble(config, config.NumLayers * encoderMatrices, encoderNorms, routers, encoderTables);
    }

    // The shared parts (embedding, head, decoder, final norms) around the encoder's own counts.
    private static ParameterCount Assemble(ModelConfig config, long encoderMatrices, long encoderNormsPerLayer,
        long routers, long encoderTables)
    {
        long d = config.DModel, v = config.VocabSize, kv = config.DKv, h = config.NumHeads;
        var ffMatrices = config.ReluFeedForward ? 2L : 3L;
        var decoderMatrices = 4 * d * h * kv                           // self-attention q, k, v, o
            + 2 * d * h * kv + 2 * d * config.NumCrossKvHeads * kv      // cross q, o and k, v (MQA / GQA / MHA)
            + ffMatrices * d * config.DFf;
        var norms = config.NumLayers * encoderNormsPerLayer + d + config.NumDecoderLayers * 3 * d + d;
        return new ParameterCount(
            Embedding: v * d,
            LmHead: config.TieWordEmbeddings ? 0 : v * d,
            EncoderMatrices: encoderMatrices,
            DecoderMatrices: config.NumDecoderLayers * decoderMatrices,
            Norms: norms,
            Routers: routers,
            BiasTables: encoderTables + config.RelativeAttentionNumBuckets * h);
    }

    /// <summary>
    /// FLOPs of one encoder layer at length <paramref name="length"/>: the spec §4.1 formula (T5 12nd² + 2n²d;
    /// LongT5 local 12nd² + 2nwd; TGlobal 12nd² + n²d/8 + 2nwd; CoLT5 233/32·nd² + 3/256·n²d + ¼·2nwd) with
    /// w = 2r + 1, and a breakdown from the configuration's real widths and routed counts m, q, v. FNet counts its
    /// FFT as 2.5·nd·log₂(nd) (the usual estimate of a real-input 2D FFT) next to 8nd² of feed-forward. Sparse
    /// Mixer's layers differ, so it gets the mean over its stack, each kind weighted by its share of the layers
    /// (<see cref="EncoderLayerFlops(ModelConfig, int, int)"/> gives one layer).
    /// </summary>
    public static LayerFlops EncoderLayerFlops(ModelConfig config, int length)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        config.Validate();
        return config.Encoder == EncoderType.SparseMixer ? SparseMixerMean(config, length) : Layer(config, length, 0);
    }

    /// <summary>FLOPs of encoder layer <paramref name="layer"/> at length <paramref name="length"/> (the same for
    /// every layer except Sparse Mixer's, whose mixing / attention and dense / MoE sub-layers depend on it).</summary>
    public static LayerFlops EncoderLayerFlops(ModelConfig config, int length, int layer)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        config.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layer, config.NumLayers);
        return Layer(config, length, layer);
    }

    private static LayerFlops Layer(ModelConfig config, int length, int layer)
    {
        double n = length, d = config.DModel, w = 2.0 * config.LocalRadius + 1;
        double ffMatrices = config.ReluFeedForward ? 2 : 3;
        var terms = new List<FlopTerm>();
        void Add(string name, string expression, double flops) => terms.Add(new FlopTerm(name, expression, flops));
        double width = config.NumHeads * (double)config.DKv;
        switch (config.Encoder)
        {
            case EncoderType.FNet:
                Add("Fourier mixing (real 2D FFT)", "2.5·n·d·log₂(n·d)", FftFlops(n, d));
                Add("feed-forward", $"{ffMatrices}·n·d·d_ff", ffMatrices * n * d * config.DFf);
                return new LayerFlops(length, "8nd² + 2.5·nd·log₂(nd)", 8 * n * d * d + FftFlops(n, d), terms);
            case EncoderType.SparseMixer:
                {
                    var (formula, value) = SparseMixerTerms(config, n, layer, Add);
                    return new LayerFlops(length, formula, value, terms);
                }
            case EncoderType.T5:
                Add("attention projections", "4·n·d·(h·d_kv)", 4 * n * d * width);
                Add("attention scores + weighted sum", "2·n²·(h·d_kv)", 2 * n * n * width);
                Add("feed-forward", $"{ffMatrices}·n·d·d_ff", ffMatrices * n * d * config.DFf);
                return new LayerFlops(length, "12nd² + 2n²d", 12 * n * d * d + 2 * n * n * d, terms);
            case EncoderType.LongT5Local:
                Add("attention projections", "4·n·d·(h·d_kv)", 4 * n * d * width);
                Add("local attention", "2·n·w·(h·d_kv), w = 2r+1", 2 * n * w * width);
                Add("feed-forward", $"{ffMatrices}·n·d·d_ff", ffMatrices * n * d * config.DFf);
                return new LayerFlops(length, "12nd² + 2nwd", 12 * n * d * d + 2 * n * w * d, terms);
            case EncoderType.LongT5TGlobal:
                // ⌊n/g⌋ global tokens, as the model builds them (EncoderContext) and Hugging Face LongT5 does
                double globals = length / config.GlobalBlockSize;
                Add("attention projections", "4·n·d·(h·d_kv)", 4 * n * d * width);
                Add("local attention", "2·n·w·(h·d_kv), w = 2r+1", 2 * n * w * width);
                Add("transient-global attention", "2·n·⌊n/g⌋·(h·d_kv)", 2 * n * globals * width);
                Add("feed-forward", $"{ffMatrices}·n·d·d_ff", ffMatrices * n * d * config.DFf);
                return new LayerFlops(length, "12nd² + n²d/8 + 2nwd",
                    12 * n * d * d + n * n * d / 8 + 2 * n * w * d, terms);
            default:
                double m = config.FfTokens(length), q = config.QueryTokens(length), v = config.KeyValueTokens(length);
                double light = config.LightHeads * (double)config.DKv, heavy = config.HeavyHeads * (double)config.DKv;
                Add("light attention projections", "4·n·d·(h_L·d_kv)", 4 * n * d * light);
                Add("light local attention", "2·n·w·(h_L·d_kv), w = 2r+1", 2 * n * w * light);
                Add("heavy q, o projections", $"2·q·d·(h_H·d_kv), q = {q}", 2 * q * d * heavy);
                Add("heavy k, v projections", $"2·v·d·(h_H·d_kv), v = {v}", 2 * v * d * heavy);
                Add("heavy attention", "2·q·v·(h_H·d_kv)", 2 * q * v * heavy);
                Add("light feed-forward", $"{ffMatrices}·n·d·d_ff_light", ffMatrices * n * d * config.DFfLight);
                Add("heavy feed-forward", $"{ffMatrices}·m·d·d_ff_heavy, m = {m}",
                    ffMatrices * m * d * config.DFfHeavy);
                Add("routers", "3·n·d", 3 * n * d);
                return new LayerFlops(length, "233/32·nd² + 3/256·n²d + ¼·2nwd",
                    233.0 / 32 * n * d * d + 3.0 / 256 * n * n * d + 0.25 * 2 * n * w * d, terms);
        }
    }

    // A real-input 2D FFT of n × d points: 5·M·log₂M real operations for a complex FFT of M points, halved for real
    // input.
    private static double FftFlops(double n, double d) => 2.5 * n * d * Math.Log2(Math.Max(2, n * d));

    // One Sparse Mixer layer: linear mixing (A[:n, :n]·X then ·B) or T5 attention, then a dense or MoE
    // feed-forward (each expert on its C = capacity(n) tokens, plus the router). The formula idealises d_ff = 4d,
    // a 2-matrix FF and E·C = cf·n.
    private static (string Formula, double Value) SparseMixerTerms(ModelConfig config, double n, int layer,
        Action<string, string, double> add)
    {
        double d = config.DModel, width = config.NumHeads * (double)config.DKv, ffMatrices = config.ReluFeedForward
            ? 2 : 3;
        double experts = config.NumExperts, cf = config.ExpertCapacityFactor;
        string formula;
        double value;
        if (config.HasAttention(layer))
        {
            add("attention projections", "4·n·d·(h·d_kv)", 4 * n * d * width);
            add("attention scores + weighted sum", "2·n²·(h·d_kv)", 2 * n * n * width);
            (formula, value) = ("4nd² + 2n²d", 4 * n * d * d + 2 * n * n * d);
        }
        else
        {
            add("linear mixing", "n²·d + n·d²", n * n * d + n * d * d);
            (formula, value) = ("n²d + nd²", n * n * d + n * d * d);
        }
        if (config.HasMoe(layer))
        {
            double capacity = config.ExpertCapacity((int)n);
            add("MoE router", "n·d·E", n * d * experts);
            add("MoE experts", $"E·C·{ffMatrices}·d·d_ff, C = {capacity}",
                experts * capacity * ffMatrices * d * config.DFf);
            return (formula + " + 8·cf·nd² + nEd", value + 8 * cf * n * d * d + n * experts * d);
        }
        add("feed-forward", $"{ffMatrices}·n·d·d_ff", ffMatrices * n * d * config.DFf);
        return (formula + " + 8nd²", value + 8 * n * d * d);
    }

    // Sparse Mixer's mean layer: every layer's terms, weighted by 1/L and merged by name; "(k/L)" after a name says
    // that k of the L layers have the term.
    private static LayerFlops SparseMixerMean(ModelConfig config, int length)
    {
        var layers = config.NumLayers;
        var merged = new List<FlopTerm>();
        double formula = 0;
        for (var i = 0; i < layers; i++)
        {
            var one = Layer(config, length, i);
            formula += one.FormulaFlops / layers;
            foreach (var term in one.Terms)
            {
                var at = merged.FindIndex(t => t.Name == term.Name);
                var share = term.Flops / layers;
                if (at < 0)
                    merged.Add(term with { Flops = share });
                else
                    merged[at] = merged[at] with { Flops = merged[at].Flops + share };
            }
        }
        int mixing = layers - config.SparseAttentionLayers, attention = config.SparseAttentionLayers;
        int moe = config.SparseMoeLayers, dense = layers - moe;
        var named = merged.Select(t => t with
        {
            Name = t.Name + (t.Name switch
            {
                "linear mixing" => $" ({mixing}/{layers})",
                "MoE router" or "MoE experts" => $" ({moe}/{layers})",
                "feed-forward" => $" ({dense}/{layers})",
                _ => $" ({attention}/{layers})",
            }),
        }).ToList();
        return new LayerFlops(length, $"mean over {layers} layers of (n²d + nd² or 4nd² + 2n²d) + (8nd² or " +
            "8·cf·nd² + nEd)", formula, named);
    }
}
