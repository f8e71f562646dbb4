// Checkpoint directories: config.json plus model.safetensors with Hugging Face names (our own models and imported
// T5 / LongT5 ones alike). Loading checks that the weights match the configuration exactly; saving writes each file
// to a temporary name and renames it into place.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CoLT5.Model.Configuration;
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
    /// Loads the model in <paramref name="directory"/> with parameters converted to <paramref name="dtype"/>.
    /// </summary>
    /// <exception cref="CheckpointException">A file is missing or unreadable, or the weights do not match the
    /// configuration (missing, unexpected or wrongly shaped tensors).</exception>
    public static Seq2SeqModel Load(string directory, DType dtype = DType.Float32, Device? device = null,
        string weightsFile = WeightsFile)
    {
        var configPath = Path.Combine(directory, ConfigFileName);
        var weightsPath = Path.Combine(directory, weightsFile);
        if (!Directory.Exists(directory))
            throw new CheckpointException(directory, "the checkpoint directory does not exist");
        if (!File.Exists(configPath))
            throw new CheckpointException(directory, $"{ConfigFileName} is missing");
        if (!File.Exists(weightsPath))
            throw new CheckpointException(directory, $"{weightsFile} is missing");
        ModelConfig config;
        try
        {
            config = ConfigFile.Read(configPath);
        }
        catch (ConfigException e)
        {
            throw new CheckpointException(directory, e.Message, e);
        }

        var store = new ParameterStore(dtype, device, new Generator(0));
        try
        {
            using (var file = SafetensorsFile.Open(weightsPath))
            {
                foreach (var entry in file.Entries)
                {
                    if (Ignorable.Contains(entry.Name) || (config.TieWordEmbeddings && entry.Name == "lm_head.weight"))
                        continue;
                    store.Add(entry.Name, file.Load(entry.Name, dtype, device));
                }
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

    /// <summary>Writes config.json and model.safetensors (each via a temporary file and an atomic rename).</summary>
    public static void Save(Seq2SeqModel model, string directory, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Directory.CreateDirectory(directory);
        SafetensorsWriter.Write(Path.Combine(directory, WeightsFile), model.Parameters.Parameters, metadata);
        ConfigFile.Write(model.Config, Path.Combine(directory, ConfigFileName));
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
