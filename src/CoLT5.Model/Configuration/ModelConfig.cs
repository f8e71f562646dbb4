// The model's hyper-parameters, named as in Hugging Face's T5/LongT5 config.json plus the CoLT5 fields of the
// spec's checkpoint section and the FNet / Sparse Mixer fields. One record drives all six encoder types.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text.Json.Serialization;

namespace CoLT5.Model.Configuration;

/// <summary>Which attention the encoder uses; everything else is shared.</summary>
public enum EncoderType
{
    /// <summary>T5: full bidirectional self-attention (config value "full").</summary>
    T5,

    /// <summary>LongT5 local attention: radius r, blocks of r + 1, a 3-block window ("local").</summary>
    LongT5Local,

    /// <summary>LongT5 transient-global: local plus one summary token per block of 16 ("transient-global").</summary>
    LongT5TGlobal,

    /// <summary>CoLT5: light local attention plus routed heavy attention, light plus routed heavy FF ("conditional").</summary>
    CoLT5,

    /// <summary>FNet: every self-attention sub-layer replaced by parameter-free 2D Fourier mixing
    /// ("fourier").</summary>
    FNet,

    /// <summary>Sparse Mixer: learned linear mixing below, T5 self-attention in the top layers, experts-choose MoE
    /// feed-forwards in the middle layers ("sparse-mixer").</summary>
    SparseMixer,
}

/// <summary>
/// Hyper-parameters of the encoder-decoder. Property names serialise as Hugging Face's (<c>d_model</c>,
/// <c>num_heads</c>, ...); CoLT5 adds the fields listed in the spec (<c>light_heads</c>, <c>routed_ff_tokens</c>, ...).
/// Use <see cref="Presets"/> for the standard sizes and <see cref="Validate"/> before building a model.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>"t5" and "longt5" for imported Hugging Face checkpoints, "colt5" for models of this engine.</summary>
    [JsonPropertyName("model_type")] public string ModelType { get; init; } = "colt5";

    /// <summary>Vocabulary size (embedding rows).</summary>
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 32128;

    /// <summary>Model width d.</summary>
    [JsonPropertyName("d_model")] public int DModel { get; init; } = 512;

    /// <summary>Width of one attention head.</summary>
    [JsonPropertyName("d_kv")] public int DKv { get; init; } = 64;

    /// <summary>T5.1.1 feed-forward width (the decoder's, and the dense encoders').</summary>
    [JsonPropertyName("d_ff")] public int DFf { get; init; } = 2048;

    /// <summary>Encoder layers.</summary>
    [JsonPropertyName("num_layers")] public int NumLayers { get; init; } = 6;

    /// <summary>Decoder layers.</summary>
    [JsonPropertyName("num_decoder_layers")] public int NumDecoderLayers { get; init; } = 6;

    /// <summary>Attention heads (decoder; dense encoders; CoLT5's light + heavy heads add up to it).</summary>
    [JsonPropertyName("num_heads")] public int NumHeads { get; init; } = 8;

    /// <summary>Relative-position buckets.</summary>
    [JsonPropertyName("relative_attention_num_buckets")] public int RelativeAttentionNumBuckets { get; init; } = 32;

    /// <summary>Distance beyond which relative positions share a bucket.</summary>
    [JsonPropertyName("relative_attention_max_distance")] public int RelativeAttentionMaxDistance { get; init; } = 128;

    /// <summary>Dropout probability during training (embeddings, sub-block outputs, attention weights, FF inside).</summary>
    [JsonPropertyName("dropout_rate")] public double DropoutRate { get; init; }

    /// <summary>RMSNorm ε.</summary>
    [JsonPropertyName("layer_norm_epsilon")] public double LayerNormEpsilon { get; init; } = 1e-6;

    /// <summary>"gated-gelu" (T5.1.1, tanh GELU) or "relu" (T5 1.0).</summary>
    [JsonPropertyName("feed_forward_proj")] public string FeedForwardProj { get; init; } = "gated-gelu";

    /// <summary>Share the input embedding with the LM head (T5 1.0; the decoder output is then scaled by d^-0.5).</summary>
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; }

    /// <summary>Padding id.</summary>
    [JsonPropertyName("pad_token_id")] public int PadTokenId { get; init; }

    /// <summary>End-of-sequence id.</summary>
    [JsonPropertyName("eos_token_id")] public int EosTokenId { get; init; } = 1;

    /// <summary>The decoder's first input (T5: the pad id).</summary>
    [JsonPropertyName("decoder_start_token_id")] public int DecoderStartTokenId { get; init; }

    /// <summary>"full", "local", "transient-global", "conditional", "fourier" or "sparse-mixer".</summary>
    [JsonPropertyName("encoder_attention_type")] public string EncoderAttentionType { get; init; } = "conditional";

    /// <summary>Local attention radius r (blocks of r + 1).</summary>
    [JsonPropertyName("local_radius")] public int LocalRadius { get; init; } = 127;

    /// <summary>Tokens per transient-global block.</summary>
    [JsonPropertyName("global_block_size")] public int GlobalBlockSize { get; init; } = 16;

    /// <summary>CoLT5 light (local) attention heads.</summary>
    [JsonPropertyName("light_heads")] public int LightHeads { get; init; } = 2;

    /// <summary>CoLT5 heavy (routed) attention heads.</summary>
    [JsonPropertyName("heavy_heads")] public int HeavyHeads { get; init; } = 6;

    /// <summary>CoLT5 light FF width (d_ff / 2).</summary>
    [JsonPropertyName("d_ff_light")] public int DFfLight { get; init; } = 1024;

    /// <summary>CoLT5 heavy FF width (4·d_ff).</summary>
    [JsonPropertyName("d_ff_heavy")] public int DFfHeavy { get; init; } = 8192;

    /// <summary>Tokens routed to the heavy FF: an absolute count (≥ 1) or a fraction of the length (&lt; 1).</summary>
    [JsonPropertyName("routed_ff_tokens")] public double RoutedFfTokens { get; init; } = 1.0 / 16;

    /// <summary>Routed heavy-attention queries (count or fraction); null means the same as the FF.</summary>
    [JsonPropertyName("routed_q_tokens")] public double? RoutedQTokens { get; init; }

    /// <summary>Routed heavy-attention keys/values (count or fraction); null means twice the FF's.</summary>
    [JsonPropertyName("routed_kv_tokens")] public double? RoutedKvTokens { get; init; }

    /// <summary>Soft top-k ε (target).</summary>
    [JsonPropertyName("router_eps")] public double RouterEps { get; init; } = 1.0;

    /// <summary>Soft top-k iterations.</summary>
    [JsonPropertyName("router_iters")] public int RouterIters { get; init; } = 50;

    /// <summary>Starting ε for ε-scaling (null: no scaling).</summary>
    [JsonPropertyName("router_eps_init")] public double? RouterEpsInit { get; init; }

    /// <summary>ε decay per iteration with ε-scaling.</summary>
    [JsonPropertyName("router_eps_decay")] public double RouterEpsDecay { get; init; } = 1.0;

    /// <summary>k' = ratio · k while training (9/8 in the paper); k at evaluation.</summary>
    [JsonPropertyName("router_k_ratio")] public double RouterKRatio { get; init; } = 9.0 / 8;

    /// <summary>Straight-through weights: forward 1, gradient of λ (default off: soft λ as in the paper).</summary>
    [JsonPropertyName("router_straight_through")] public bool RouterStraightThrough { get; init; }

    /// <summary>How kv router weights enter heavy attention: "keys-and-values" (paper) or "values" (option).</summary>
    [JsonPropertyName("router_kv_scaling")] public string RouterKvScaling { get; init; } = "keys-and-values";

    /// <summary>A learned output vector for unrouted queries (default off: their heavy output is 0).</summary>
    [JsonPropertyName("router_null_output")] public bool RouterNullOutput { get; init; }

    /// <summary>Key/value heads of the decoder's cross-attention: 1 = MQA, G = GQA, num_heads = MHA.</summary>
    [JsonPropertyName("num_cross_kv_heads")] public int NumCrossKvHeads { get; init; } = 1;

    /// <summary>Sparse Mixer: experts per MoE layer (each a feed-forward of width d_ff).</summary>
    [JsonPropertyName("num_experts")] public int NumExperts { get; init; } = 16;

    /// <summary>Sparse Mixer: capacity factor cf; each expert takes C = max(round(cf·T/E), 4) of a row's T real
    /// tokens (at most T).</summary>
    [JsonPropertyName("expert_capacity_factor")] public double ExpertCapacityFactor { get; init; } = 1.0;

    /// <summary>Sparse Mixer: MoE feed-forward layers, placed in the middle of the stack; null means
    /// min(4, ⌊num_layers/2⌋).</summary>
    [JsonPropertyName("moe_layers")] public int? MoeLayers { get; init; }

    /// <summary>Sparse Mixer: self-attention layers, placed at the top of the stack; null means
    /// min(4, ⌊num_layers/2⌋).</summary>
    [JsonPropertyName("attention_layers")] public int? AttentionLayers { get; init; }

    /// <summary>Sparse Mixer: the fixed length N of the learned (N, N) sequence mixing matrix; inputs may be shorter
    /// (they use its leading block, exactly as zero rows padded up to N would), never longer.</summary>
    [JsonPropertyName("mixing_length")] public int MixingLength { get; init; } = 512;

    /// <summary>Sparse Mixer: weight of the router z-loss mean((logsumexp_e z)²), summed over MoE layers and added
    /// to the training loss.</summary>
    [JsonPropertyName("router_z_loss")] public double RouterZLoss { get; init; } = 1e-4;

    /// <summary>The encoder type derived from <see cref="EncoderAttentionType"/>.</summary>
    [JsonIgnore]
    public EncoderType Encoder => EncoderAttentionType switch
    {
        "full" => EncoderType.T5,
        "local" => EncoderType.LongT5Local,
        "transient-global" => EncoderType.LongT5TGlobal,
        "conditional" => EncoderType.CoLT5,
        "fourier" => EncoderType.FNet,
        "sparse-mixer" => EncoderType.SparseMixer,
        _ => throw new ConfigException($"unknown encoder_attention_type '{EncoderAttentionType}' " +
            "(expected full, local, transient-global, conditional, fourier or sparse-mixer)"),
    };

    /// <summary>Sparse Mixer: the number of top self-attention layers (<see cref="AttentionLayers"/> or its
    /// default).</summary>
    [JsonIgnore] public int SparseAttentionLayers => AttentionLayers ?? Math.Min(4, NumLayers / 2);

    /// <summary>Sparse Mixer: the number of middle MoE layers (<see cref="MoeLayers"/> or its default).</summary>
    [JsonIgnore] public int SparseMoeLayers => MoeLayers ?? Math.Min(4, NumLayers / 2);

    /// <summary>
    /// True when encoder layer <paramref name="layer"/> has a self-attention sub-layer: always for T5, LongT5 and
    /// CoLT5, never for FNet, and for Sparse Mixer in the top <see cref="SparseAttentionLayers"/> layers (layer ≥
    /// L − a, the FNet-Hybrid "TOP" rule); the others mix tokens instead.
    /// </summary>
    public bool HasAttention(int layer) => Encoder switch
    {
        EncoderType.FNet => false,
        EncoderType.SparseMixer => layer >= NumLayers - SparseAttentionLayers,
        _ => true,
    };

    /// <summary>
    /// True when encoder layer <paramref name="layer"/> has an experts-choose MoE feed-forward: Sparse Mixer's
    /// <see cref="SparseMoeLayers"/> = k middle layers, L − k ≤ 2·layer &lt; L + k (the "MIDDLE" rule, exactly k
    /// layers).
    /// </summary>
    public bool HasMoe(int layer)
    {
        if (Encoder != EncoderType.SparseMixer)
            return false;
        var k = SparseMoeLayers;
        return NumLayers - k <= 2 * layer && 2 * layer < NumLayers + k;
    }

    /// <summary>Sparse Mixer: the expert capacity C = max(round(cf·T/E), 4) for a row of <paramref name="tokens"/>
    /// real tokens, at most T (rounding half to even).</summary>
    public int ExpertCapacity(int tokens) =>
        Math.Min(tokens, Math.Max((int)Math.Round(ExpertCapacityFactor * tokens / NumExperts), 4));

    /// <summary>True for T5 1.0 style ReLU feed-forward blocks.</summary>
    [JsonIgnore] public bool ReluFeedForward => FeedForwardProj is "relu";

    /// <summary>Routed tokens for length <paramref name="n"/>: an absolute count or a fraction of n, at least 1,
    /// at most n.</summary>
    public static int RoutedCount(double setting, int n) =>
        Math.Clamp(setting >= 1 ? (int)setting : (int)Math.Round(setting * n), Math.Min(1, n), n);

    /// <summary>Heavy FF tokens m for length n.</summary>
    public int FfTokens(int n) => RoutedCount(RoutedFfTokens, n);

    /// <summary>Routed queries q for length n (default q = m).</summary>
    public int QueryTokens(int n) => RoutedQTokens is { } q ? RoutedCount(q, n) : FfTokens(n);

    /// <summary>Routed keys/values v for length n (default v = 2m).</summary>
    public int KeyValueTokens(int n) => RoutedKvTokens is { } v ? RoutedCount(v, n) : Math.Min(n, 2 * FfTokens(n));

    /// <summary>Checks every constraint and throws one <see cref="ConfigException"/> listing all problems.</summary>
    public ModelConfig Validate()
    {
        var problems = new List<string>();
        void Require(bool ok, string message)
        {
            if (!ok)
                problems.Add(message);
        }
        Require(VocabSize > 0, $"vocab_size must be positive, got {VocabSize}");
        Require(DModel > 0 && DKv > 0 && DFf > 0, "d_model, d_kv and d_ff must be positive");
        Require(NumLayers > 0 && NumDecoderLayers > 0, "num_layers and num_decoder_layers must be positive");
        Require(NumHeads > 0, "num_heads must be positive");
        Require(RelativeAttentionNumBuckets >= 2 && RelativeAttentionMaxDistance > 0, "bad relative attention settings");
        Require(DropoutRate is >= 0 and < 1, $"dropout_rate must lie in [0, 1), got {DropoutRate}");
        Require(FeedForwardProj is "gated-gelu" or "relu", $"feed_forward_proj must be gated-gelu or relu, got '{FeedForwardProj}'");
        Require(NumCrossKvHeads > 0 && NumHeads % NumCrossKvHeads == 0,
            $"num_heads ({NumHeads}) must be a multiple of num_cross_kv_heads ({NumCrossKvHeads})");
        Require(PadTokenId >= 0 && PadTokenId < VocabSize && EosTokenId >= 0 && EosTokenId < VocabSize,
            "pad and eos ids must lie inside the vocabulary");
        try
        {
            var encoder = Encoder;
            Require(encoder is not (EncoderType.LongT5Local or EncoderType.LongT5TGlobal or EncoderType.CoLT5)
                || LocalRadius > 0, "local_radius must be positive");
            Require(encoder is not EncoderType.LongT5TGlobal || GlobalBlockSize > 0, "global_block_size must be positive");
            if (encoder == EncoderType.CoLT5)
            {
                Require(LightHeads > 0, $"light_heads must be positive, got {LightHeads}");
                Require(HeavyHeads > 0, $"heavy_heads must be positive, got {HeavyHeads}");
                Require(DFfLight > 0, $"d_ff_light must be positive, got {DFfLight}");
                Require(DFfHeavy > 0, $"d_ff_heavy must be positive, got {DFfHeavy}");
                foreach (var (field, value) in new[]
                         {
                             ("routed_ff_tokens", (double?)RoutedFfTokens), ("routed_q_tokens", RoutedQTokens),
                             ("routed_kv_tokens", RoutedKvTokens),
                         })
                {
                    Require(value is not { } v || (v > 0 && double.IsFinite(v)),
                        $"{field} must be a positive count or fraction, got {Show(value)}");
                }
                Require(RouterEps > 0 && double.IsFinite(RouterEps),
                    $"router_eps must be positive and finite, got {Show(RouterEps)}");
                Require(RouterIters > 0, $"router_iters must be positive, got {RouterIters}");
                Require(RouterEpsInit is not { } init || (init > 0 && double.IsFinite(init)),
                    $"router_eps_init must be null or positive and finite, got {Show(RouterEpsInit)}");
                // ε only ever decays towards router_eps; a factor above 1 would raise it past the target
                Require(RouterEpsDecay is > 0 and <= 1,
                    $"router_eps_decay must lie in (0, 1], got {Show(RouterEpsDecay)}");
                Require(RouterKRatio >= 1 && double.IsFinite(RouterKRatio),
                    $"router_k_ratio must be at least 1 and finite, got {Show(RouterKRatio)}");
                Require(RouterKvScaling is "keys-and-values" or "values",
                    $"router_kv_scaling must be keys-and-values or values, got '{RouterKvScaling}'");
            }
            if (encoder == EncoderType.SparseMixer)
            {
                Require(NumExperts > 0, $"num_experts must be positive, got {NumExperts}");
                Require(ExpertCapacityFactor > 0 && double.IsFinite(ExpertCapacityFactor),
                    $"expert_capacity_factor must be positive and finite, got {Show(ExpertCapacityFactor)}");
                Require(SparseMoeLayers >= 0 && SparseMoeLayers <= NumLayers,
                    $"moe_layers must lie in [0, num_layers = {NumLayers}], got {SparseMoeLayers}");
                Require(SparseAttentionLayers >= 0 && SparseAttentionLayers <= NumLayers,
                    $"attention_layers must lie in [0, num_layers = {NumLayers}], got {SparseAttentionLayers}");
                Require(MixingLength > 0, $"mixing_length must be positive, got {MixingLength}");
                Require(RouterZLoss >= 0 && double.IsFinite(RouterZLoss),
                    $"router_z_loss must be non-negative and finite, got {Show(RouterZLoss)}");
            }
        }
        catch (ConfigException e)
        {
            problems.Add(e.Message);
        }
        if (problems.Count > 0)
            throw new ConfigException("invalid model configuration: " + string.Join("; ", problems));
        return this;
    }

    // A number as JSON would write it ("null" when absent), whatever the current culture.
    private static string Show(double? value) =>
        value is { } v ? v.ToString(CultureInfo.InvariantCulture) : "null";
}

/// <summary>A configuration is invalid, incomplete, or does not match a checkpoint.</summary>
public sealed class ConfigException : Exception
{
    /// <summary>Creates the error.</summary>
    public ConfigException(string message) : base(message) { }

    /// <summary>Creates the error.</summary>
    public ConfigException() : this("invalid model configuration") { }

    /// <summary>Creates the error.</summary>
    public ConfigException(string message, Exception innerException) : base(message, innerException) { }
}
