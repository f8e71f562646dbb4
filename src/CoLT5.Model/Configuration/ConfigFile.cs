// Reading and writing config.json: our own files, and Hugging Face T5 / LongT5 files, whose omitted fields take
// transformers' defaults (notably tie_word_embeddings = true and multi-head cross-attention).
using System;
using System.IO;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using CoLT5.Tensors.Serialization;

namespace CoLT5.Model.Configuration;

/// <summary>config.json I/O.</summary>
public static class ConfigFile
{
    /// <summary>Parses a config.json (ours or a Hugging Face T5/LongT5 one) and validates it.</summary>
    /// <exception cref="ConfigException">Unreadable, not JSON, an unsupported model type or invalid values.</exception>
    public static ModelConfig Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException e)
        {
            throw new ConfigException($"cannot read {path}: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ConfigException($"cannot read {path}: {e.Message}", e);
        }
        try
        {
            return Parse(text);
        }
        catch (ConfigException e)
        {
            throw new ConfigException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Parses config JSON text (see <see cref="Read"/>).</summary>
    public static ModelConfig Parse(string json)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new ConfigException("config.json must hold a JSON object");
        }
        catch (JsonException e)
        {
            throw new ConfigException($"config.json is not valid JSON: {e.Message}", e);
        }
        var modelType = (string?)root["model_type"] ?? "t5";
        ModelConfig config;
        try
        {
            config = root.Deserialize(ConfigJsonContext.Default.ModelConfig) ?? new ModelConfig();
        }
        catch (JsonException e)
        {
            throw new ConfigException($"config.json has a field of the wrong type: {e.Message}", e);
        }
        switch (modelType)
        {
            case "colt5":
                break;
            case "t5" or "mt5" or "longt5":
                config = FromHuggingFace(root, config, modelType);
                break;
            default:
                throw new ConfigException($"unsupported model_type '{modelType}' (expected colt5, t5 or longt5)");
        }
        return config.Validate();
    }

    // Hugging Face omits fields equal to PretrainedConfig's defaults; fill them in as transformers does.
    private static ModelConfig FromHuggingFace(JsonObject root, ModelConfig parsed, string modelType)
    {
        int Int(string name, int fallback) => root[name] is { } v ? (int)v : fallback;
        double Dbl(string name, double fallback) => root[name] is { } v ? (double)v : fallback;
        var layers = Int("num_layers", Int("num_hidden_layers", 6));
        var heads = Int("num_heads", Int("num_attention_heads", 8));
        var proj = (string?)root["feed_forward_proj"] ?? "relu";
        if ((string?)root["dense_act_fn"] is { } act && root["is_gated_act"] is { } gated)
            proj = ((bool)gated ? "gated-" : "") + (act is "gelu_new" or "gelu_pytorch_tanh" ? "gelu" : act);
        if (proj is not ("relu" or "gated-gelu"))
            throw new ConfigException($"feed_forward_proj '{proj}' is not supported (relu or gated-gelu)");
        return parsed with
        {
            ModelType = modelType == "longt5" ? "longt5" : "t5",
            VocabSize = Int("vocab_size", 32128),
            DModel = Int("d_model", 512),
            DKv = Int("d_kv", 64),
            DFf = Int("d_ff", 2048),
            NumLayers = layers,
            NumDecoderLayers = Int("num_decoder_layers", layers),
            NumHeads = heads,
            RelativeAttentionNumBuckets = Int("relative_attention_num_buckets", 32),
            RelativeAttentionMaxDistance = Int("relative_attention_max_distance", 128),
            DropoutRate = Dbl("dropout_rate", 0.1),
            LayerNormEpsilon = Dbl("layer_norm_epsilon", 1e-6),
            FeedForwardProj = proj,
            // transformers 5.17 writes tie_word_embeddings: true for every T5 and says with scale_decoder_outputs
            // whether the decoder output is scaled; the head is lm_head.weight when the file holds it. Only the two
            // classic pairs exist here: tied and scaled (T5 1.0) or untied and unscaled (T5 v1.1, LongT5).
            TieWordEmbeddings = root["scale_decoder_outputs"] is { } scaled
                ? (bool)scaled
                : root["tie_word_embeddings"] is not { } tie || (bool)tie,
            PadTokenId = Int("pad_token_id", 0),
            EosTokenId = Int("eos_token_id", 1),
            DecoderStartTokenId = Int("decoder_start_token_id", 0),
            EncoderAttentionType = modelType == "longt5" ? (string?)root["encoder_attention_type"] ?? "local" : "full",
            LocalRadius = Int("local_radius", 127),
            GlobalBlockSize = Int("global_block_size", 16),
            NumCrossKvHeads = Int("num_cross_kv_heads", heads),
        };
    }

    /// <summary>Writes a config as JSON via a temporary file and an atomic rename (see <see cref="ToJson"/>).</summary>
    public static void Write(ModelConfig config, string path, SafetensorsDType? weightsStoredAs = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var temp = path + ".tmp";
        File.WriteAllText(temp, ToJson(config, weightsStoredAs));
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The config.json keys only CoLT5 models use.</summary>
    private static readonly string[] CoLT5Fields =
    [
        "light_heads", "heavy_heads", "d_ff_light", "d_ff_heavy", "routed_ff_tokens", "routed_q_tokens",
        "routed_kv_tokens", "router_eps", "router_iters", "router_eps_init", "router_eps_decay", "router_k_ratio",
        "router_straight_through", "router_kv_scaling", "router_null_output",
    ];

    /// <summary>
    /// The config as JSON text: every field (T5 and LongT5 model types leave out the CoLT5-only ones), plus what
    /// transformers' loader reads beside them for those types with multi-head cross-attention
    /// (<c>architectures</c>, <c>is_encoder_decoder</c>) and, when given, the stored float format as
    /// <c>torch_dtype</c>.
    /// </summary>
    public static string ToJson(ModelConfig config, SafetensorsDType? weightsStoredAs = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var root = JsonSerializer.SerializeToNode(config, ConfigJsonContext.Default.ModelConfig)!.AsObject();
        // (a T5 whose cross-attention was pooled to fewer kv heads has no transformers class)
        var architecture = config.NumCrossKvHeads != config.NumHeads ? null : config.ModelType switch
        {
            "t5" => "T5ForConditionalGeneration",
            "longt5" => "LongT5ForConditionalGeneration",
            _ => null,
        };
        if (config.ModelType is "t5" or "longt5")
        {
            // the CoLT5-only fields mean nothing to a T5 / LongT5 reader (ours fills them in again on parse)
            foreach (var name in CoLT5Fields)
                root.Remove(name);
        }
        if (architecture is not null)
        {
            root.Remove("num_cross_kv_heads");
            root["scale_decoder_outputs"] = config.TieWordEmbeddings;      // what transformers 5.17 reads
            root["architectures"] = new JsonArray(architecture);
            root["is_encoder_decoder"] = true;
        }
        if (weightsStoredAs is { } stored)
        {
            root["torch_dtype"] = stored switch
            {
                SafetensorsDType.F16 => "float16",
                SafetensorsDType.BF16 => "bfloat16",
                SafetensorsDType.F64 => "float64",
                _ => "float32",
            };
        }
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}

/// <summary>Source-generated (trimming-safe) JSON metadata for <see cref="ModelConfig"/>.</summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(ModelConfig))]
internal sealed partial class ConfigJsonContext : JsonSerializerContext;
