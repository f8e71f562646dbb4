// Checkpoint directories: config.json plus model.safetensors with Hugging Face names (our own models and imported
// T5 / LongT5 ones alike). Loading checks that the weights match the configuration exactly; saving stages both files
// and commits them as one unit (CheckpointCommit), so the pair on disk is always the old one or the new one.
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
    /// Loads the model in <paramref name="directory"/> with parameters converted to <paramref name="dtype"/>. A save
    /// into the directory that was interrupted after its commit point is finished first (<see cref="Recover"/>).
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
        for (var attempt = 1; ; attempt++)
        {
            Recover(directory);
            if (!File.Exists(configPath))
                throw new CheckpointException(directory, $"{ConfigFileName} is missing");
            if (!File.Exists(weightsPath))
                throw new CheckpointException(directory, $"{weightsFile} is missing");
            var (version, config) = ReadConfig(directory, configPath);
            SafetensorsFile file;
            try
            {
                file = SafetensorsFile.Open(weightsPath);
            }
            catch (SafetensorsException e)
            {
                throw new CheckpointException(directory, e.Message, e);
            }
            using (file)
            {
                // The open file keeps the weights it was opened on. They belong to the config read above unless a
                // save committed in between: saves move model.safetensors before config.json, so that shows as a
                // pending commit or another config.json file now (compared with its write time as well as its text,
                // so a later save of the same config in between is noticed too).
                if (CheckpointCommit.IsPending(directory) || ReadConfig(directory, configPath).Version != version)
                {
                    if (attempt < 3)
                        continue;
                    throw new CheckpointException(directory, "the checkpoint kept changing while it was read (a " +
                        "save into the directory in progress?)");
                }
                return Build(directory, config, file, dtype, device);
            }
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
    /// Writes config.json and model.safetensors into <paramref name="directory"/> as one unit: both go to a staging
    /// sub-directory first and are then committed together (see <c>CheckpointCommit</c>), so a reader sees the old
    /// pair or the new pair, never a mix, even if the process is killed during the save. Other files in the
    /// directory are left alone.
    /// </summary>
    public static void Save(Seq2SeqModel model, string directory, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var stage = CheckpointCommit.Stage(directory);
        try
        {
            WriteFiles(model, stage, metadata);
            CheckpointCommit.Commit(directory, stage, CommitOrder);
        }
        finally
        {
            CheckpointCommit.TryDeleteDirectory(stage);
        }
    }

    /// <summary>The order in which a commit moves the model files into place (see <see cref="Load"/>).</summary>
    internal static IReadOnlyList<string> CommitOrder { get; } = [WeightsFile, ConfigFileName];

    /// <summary>Writes model.safetensors and config.json into <paramref name="directory"/> (no commit).</summary>
    internal static void WriteFiles(Seq2SeqModel model, string directory,
        IReadOnlyDictionary<string, string>? metadata)
    {
        SafetensorsWriter.Write(Path.Combine(directory, WeightsFile), model.Parameters.Parameters, metadata);
        ConfigFile.Write(model.Config, Path.Combine(directory, ConfigFileName));
    }

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
    private static Seq2SeqModel Build(string directory, ModelConfig config, SafetensorsFile file, DType dtype,
        Device? device)
    {
        var store = new ParameterStore(dtype, device, new Generator(0));
        try
        {
            foreach (var entry in file.Entries)
            {
                if (Ignorable.Contains(entry.Name) || (config.TieWordEmbeddings && entry.Name == "lm_head.weight"))
                    continue;
                store.Add(entry.Name, file.Load(entry.Name, dtype, device));
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
