// Checkpoint directories in Hugging Face's layout (our own models and T5 / LongT5 ones alike): config.json, the
// weights as model.safetensors or as shards plus model.safetensors.index.json (F32, F16, BF16 or F64), and for T5
// folders generation_config.json and spiece.model. Loading checks that the weights match the configuration exactly;
// saving stages every file and commits them as one unit (CheckpointCommit), so the folder on disk is always the old
// checkpoint or the new one.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CoLT5.Model.Configuration;
using CoLT5.Model.Tokenization.SentencePiece;
using CoLT5.Nn;
using CoLT5.Tensors;
using CoLT5.Tensors.Random;
using CoLT5.Tensors.Serialization;

namespace CoLT5.Model.Checkpoints;

/// <summary>Reads and writes model checkpoints.</summary>
public static class Checkpoint
{
    /// <summary>The weights file name.</summary>
    public const string WeightsFile = "model.safetensors";

    /// <summary>The configuration file name.</summary>
    public const string ConfigFileName = "config.json";

    // Entries Hugging Face files may hold that no module asks for: tied duplicates and an unused legacy table.
    private static readonly HashSet<string> Ignorable = new(StringComparer.Ordinal)
    {
        "encoder.embed_tokens.weight",
        "decoder.embed_tokens.weight",
        "decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight",
    };

    /// <summary>
    /// Loads the model in <paramref name="directory"/> with parameters converted to <paramref name="dtype"/>. A save
    /// into the directory that was interrupted after its commit point is finished first (<see cref="Recover"/>).
    /// </summary>
    /// <exception cref="CheckpointException">A file is missing or unreadable, or the weights do not match the
    /// configuration (missing, unexpected or wrongly shaped tensors).</exception>
    public static Seq2SeqModel Load(string directory, DType dtype = DType.Float32, Device? device = null,
        string weightsFile = WeightsFile)
    {
        var configPath = Path.Combine(directory, ConfigFileName);
        if (!Directory.Exists(directory))
            throw new CheckpointException(directory, "the checkpoint directory does not exist");
        for (var attempt = 1; ; attempt++)
        {
            Recover(directory);
            if (!File.Exists(configPath))
                throw new CheckpointException(directory, $"{ConfigFileName} is missing");
            if (!CheckpointWeights.Exists(directory, weightsFile))
                throw CheckpointWeights.Missing(directory, weightsFile);
            var (version, config) = ReadConfig(directory, configPath);
            using var weights = CheckpointWeights.Open(directory, weightsFile);
            // The open files keep the weights they were opened on. They belong to the config read above unless a
            // save committed in between: saves move the weights before config.json, so that shows as a pending
            // commit or another config.json file now (compared with its write time as well as its text, so a later
            // save of the same config in between is noticed too).
            if (CheckpointCommit.IsPending(directory) || ReadConfig(directory, configPath).Version != version)
            {
                if (attempt < 3)
                    continue;
                throw new CheckpointException(directory, "the checkpoint kept changing while it was read (a " +
                    "save into the directory in progress?)");
            }
            return Build(directory, config, weights, dtype, device);
        }
    }

    /// <summary>
    /// Finishes a save into <paramref name="directory"/> that was interrupted after its commit point, so the
    /// directory holds the new checkpoint; does nothing otherwise. <see cref="Load"/> and the training checkpoint
    /// readers call it first.
    /// </summary>
    /// <exception cref="CheckpointException">The pending files cannot be moved into place.</exception>
    public static void Recover(string directory)
    {
        try
        {
            CheckpointCommit.Complete(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(directory, $"an interrupted save could not be completed: {e.Message}", e);
        }
    }

    /// <summary>
    /// Writes the model into <paramref name="directory"/> as one unit in Hugging Face's layout: config.json,
    /// generation_config.json, the weights (model.safetensors, or shards and model.safetensors.index.json above
    /// <see cref="CheckpointSaveOptions.MaxShardBytes"/>; tied weights stored once, {"format": "pt"} metadata) and
    /// the tokenizer file the options name. Everything goes to a staging sub-directory first and is then committed
    /// together (see <c>CheckpointCommit</c>), so a reader sees the old checkpoint or the new one, never a mix, even
    /// if the process is killed during the save. Weight files of the other layout left from an earlier save are
    /// removed by the commit; other files in the directory are left alone. T5 and LongT5 models (MHA cross-attention)
    /// written this way load in transformers' <c>from_pretrained</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A shard size below 1 byte, or a tokenizer file that does not exist.</exception>
    public static void Save(Seq2SeqModel model, string directory, CheckpointSaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        options ??= new CheckpointSaveOptions();
        if (options.MaxShardBytes < 1)
            throw new ArgumentException($"MaxShardBytes must be positive, not {options.MaxShardBytes}", nameof(options));
        if (options.SentencePieceModel is { } spm && !File.Exists(spm))
            throw new ArgumentException($"the SentencePiece model {spm} does not exist", nameof(options));
        var stage = CheckpointCommit.Stage(directory);
        try
        {
            var weights = WriteWeights(model, stage, options);
            var order = new List<string>(weights);
            // weight files of the other layout (or of another shard count) from an earlier save
            foreach (var stale in WeightFiles(directory).Where(f => !weights.Contains(f, StringComparer.Ordinal)))
                order.Add(CheckpointCommit.RemovePrefix + stale);
            File.WriteAllText(Path.Combine(stage, GenerationConfigFile), GenerationConfigJson(model.Config));
            order.Add(GenerationConfigFile);
            if (options.SentencePieceModel is { } tokenizer)
            {
                File.Copy(tokenizer, Path.Combine(stage, SentencePieceFile));
                order.Add(SentencePieceFile);
            }
            ConfigFile.Write(model.Config, Path.Combine(stage, ConfigFileName),
                options.StoreFloatsAs ?? model.Parameters.DType switch
                {
                    DType.Float64 => SafetensorsDType.F64,
                    DType.BFloat16 => SafetensorsDType.BF16,
                    _ => SafetensorsDType.F32,
                });
            order.Add(ConfigFileName);
            CheckpointCommit.Commit(directory, stage, order);
        }
        finally
        {
            CheckpointCommit.TryDeleteDirectory(stage);
        }
    }

    /// <summary>Writes config.json and model.safetensors into <paramref name="directory"/> as one unit (see
    /// <see cref="Save(Seq2SeqModel, string, CheckpointSaveOptions?)"/>), with extra safetensors metadata.</summary>
    public static void Save(Seq2SeqModel model, string directory, IReadOnlyDictionary<string, string>? metadata) =>
        Save(model, directory, new CheckpointSaveOptions { Metadata = metadata });

    /// <summary>The tokenizer a folder carries: its spiece.model as a <see cref="SentencePieceTokenizer"/> with 100
    /// sentinels above the pieces (what transformers' T5Tokenizer gives a T5 folder, whatever the model's special
    /// ids), or null when it has none.</summary>
    /// <exception cref="SentencePieceFormatException">spiece.model is malformed.</exception>
    public static SentencePieceTokenizer? LoadTokenizer(string directory)
    {
        var path = Path.Combine(directory, SentencePieceFile);
        return File.Exists(path) ? SentencePieceTokenizer.Load(path, SentencePieceTokenizer.T5SentinelCount) : null;
    }

    /// <summary>The generation settings file Hugging Face folders carry.</summary>
    public const string GenerationConfigFile = "generation_config.json";

    /// <summary>The SentencePiece model file of a Hugging Face T5 folder.</summary>
    public const string SentencePieceFile = "spiece.model";

    /// <summary>The order in which a commit moves the model files of a single-file save into place (see
    /// <see cref="Load"/>): the weights before config.json.</summary>
    internal static IReadOnlyList<string> CommitOrder { get; } = [WeightsFile, ConfigFileName];

    /// <summary>Writes model.safetensors and config.json into <paramref name="directory"/> (no commit; training
    /// checkpoints add their own files to the same commit).</summary>
    internal static void WriteFiles(Seq2SeqModel model, string directory,
        IReadOnlyDictionary<string, string>? metadata)
    {
        SafetensorsWriter.Write(Path.Combine(directory, WeightsFile), model.Parameters.Parameters, metadata);
        ConfigFile.Write(model.Config, Path.Combine(directory, ConfigFileName));
    }

    // The weights as one file, or as shards in name order of at most MaxShardBytes each plus the index; returns the
    // files written in commit order (shards, then the index).
    private static List<string> WriteWeights(Seq2SeqModel model, string stage, CheckpointSaveOptions options)
    {
        var tensors = model.Parameters.Parameters.OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
        long Bytes((string Name, Tensor Tensor) p) => p.Tensor.NumElements *
            (p.Tensor.DType.IsFloatingPoint() && options.StoreFloatsAs is { } f ? f.BitSize() / 8 : p.Tensor.DType.SizeOf());
        var total = tensors.Sum(Bytes);
        if (total <= options.MaxShardBytes)
        {
            WriteSafetensors(Path.Combine(stage, WeightsFile), tensors, options);
            return [WeightsFile];
        }
        var shards = new List<List<(string Name, Tensor Tensor)>> { new() };
        long size = 0;
        foreach (var p in tensors)
        {
            if (size > 0 && size + Bytes(p) > options.MaxShardBytes)
            {
                shards.Add([]);
                size = 0;
            }
            shards[^1].Add(p);
            size += Bytes(p);
        }
        var files = new List<string>();
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < shards.Count; i++)
        {
            var name = ShardIndex.ShardName(i + 1, shards.Count);
            WriteSafetensors(Path.Combine(stage, name), shards[i], options);
            foreach (var (tensor, _) in shards[i])
                map[tensor] = name;
            files.Add(name);
        }
        File.WriteAllText(Path.Combine(stage, ShardIndex.FileName), ShardIndex.ToJson(map, total));
        files.Add(ShardIndex.FileName);
        return files;
    }

    private static void WriteSafetensors(string path, List<(string Name, Tensor Tensor)> tensors,
        CheckpointSaveOptions options)
    {
        if (options.StoreFloatsAs is { } format)
            SafetensorsWriter.Write(path, tensors, options.Metadata, format);
        else
            SafetensorsWriter.Write(path, tensors, options.Metadata);
    }

    // The weight files of a folder in either layout: model.safetensors, the index and model-NNNNN-of-NNNNN shards.
    private static IEnumerable<string> WeightFiles(string directory) =>
        Directory.EnumerateFiles(directory).Select(Path.GetFileName).OfType<string>()
            .Where(f => f == WeightsFile || f == ShardIndex.FileName || IsShardName(f));

    private static bool IsShardName(string file) =>
        file.Length == "model-00001-of-00001.safetensors".Length && file.StartsWith("model-", StringComparison.Ordinal) &&
        file.EndsWith(".safetensors", StringComparison.Ordinal) && file[11..15] == "-of-";

    // generation_config.json as transformers writes it for T5: the ids generation starts, pads and stops with.
    private static string GenerationConfigJson(ModelConfig config) =>
        "{\n" +
        $"  \"decoder_start_token_id\": {config.DecoderStartTokenId},\n" +
        $"  \"eos_token_id\": {config.EosTokenId},\n" +
        $"  \"pad_token_id\": {config.PadTokenId}\n" +
        "}\n";

    // config.json parsed, and which file it was: its text and then its write time (saves write a new file each).
    private static ((string Text, DateTime Written) Version, ModelConfig Config) ReadConfig(string directory,
        string path)
    {
        string text;
        DateTime written;
        try
        {
            text = File.ReadAllText(path);
            written = File.GetLastWriteTimeUtc(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(directory, $"cannot read {path}: {e.Message}", e);
        }
        try
        {
            return ((text, written), ConfigFile.Parse(text));
        }
        catch (ConfigException e)
        {
            throw new CheckpointException(directory, $"{path}: {e.Message}", e);
        }
    }

    // The model over the tensors of `file`, checked name by name against what the configuration asks for.
    private static Seq2SeqModel Build(string directory, ModelConfig config, CheckpointWeights weights, DType dtype,
        Device? device)
    {
        var store = new ParameterStore(dtype, device, new Generator(0));
        try
        {
            foreach (var name in weights.Names)
            {
                if (Ignorable.Contains(name) || (config.TieWordEmbeddings && name == "lm_head.weight"))
                    continue;
                store.Add(name, weights.Load(name, dtype, device));
            }
            var model = new Seq2SeqModel(config, store);
            var missing = store.Created;
            var unexpected = store.Parameters.Select(p => p.Name).Where(n => !store.Requested.Contains(n)).ToList();
            if (missing.Count > 0 || unexpected.Count > 0)
            {
                throw new CheckpointException(directory,
                    "the weights do not match config.json" +
                    (missing.Count > 0 ? $"; missing: {Describe(missing)}" : "") +
                    (unexpected.Count > 0 ? $"; unexpected: {Describe(unexpected)}" : ""));
            }
            return model;
        }
        catch (Exception e) when (e is SafetensorsException or ShapeMismatchException or ConfigException)
        {
            store.Dispose();
            throw new CheckpointException(directory, e.Message, e);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    private static string Describe(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(5)) + (names.Count > 5 ? $" and {names.Count - 5} more" : "");
}

/// <summary>A checkpoint directory cannot be loaded; the message names the directory and the problem.</summary>
public sealed class CheckpointException : IOException
{
    /// <summary>Creates the error.</summary>
    public CheckpointException(string directory, string detail, Exception? inner = null)
        : base($"checkpoint {directory}: {detail}", inner) => Directory = directory;

    /// <summary>Creates the error.</summary>
    public CheckpointException() : this("?", "invalid checkpoint") { }

    /// <summary>Creates the error.</summary>
    public CheckpointException(string message) : this("?", message) { }

    /// <summary>Creates the error.</summary>
    public CheckpointException(string message, Exception innerException) : this("?", message, innerException) { }

    /// <summary>The checkpoint directory.</summary>
    public string Directory { get; } = "?";
}
