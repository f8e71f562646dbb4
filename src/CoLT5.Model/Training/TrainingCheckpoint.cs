// Training checkpoint directories: the model checkpoint (config.json + model.safetensors), optimizer.safetensors and
// trainer-state.json. Everything is staged in a hidden sub-directory first and committed as one unit
// (CheckpointCommit), trainer-state.json (with the digests of the other files) moved in last.
using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using CoLT5.Model.Checkpoints;
using CoLT5.Nn.Optim;
using CoLT5.Tensors;
using CoLT5.Tensors.Serialization;

namespace CoLT5.Model.Training;

/// <summary>Writes and validates training checkpoints.</summary>
public static class TrainingCheckpoint
{
    /// <summary>The trainer state file (written last).</summary>
    public const string StateFile = "trainer-state.json";

    /// <summary>The optimizer state tensors.</summary>
    public const string OptimizerFile = "optimizer.safetensors";

    /// <summary>Test hook: runs after everything is staged and before the commit (throw to simulate a crash).</summary>
    internal static Action<string>? BeforeCommit { get; set; }

    // The commit moves the model (weights before config, see Checkpoint.Load), the optimizer, and the state last.
    private static readonly string[] CommitOrder =
        [.. Checkpoint.CommitOrder, OptimizerFile, StateFile];

    /// <summary>
    /// Saves <paramref name="model"/>, <paramref name="optimizer"/> and <paramref name="state"/> (whose
    /// <see cref="TrainerState.Files"/> is filled in here) into <paramref name="directory"/>, as one unit: killed
    /// before the commit point the directory keeps its previous checkpoint untouched, killed after it the next
    /// reader or save finishes the commit.
    /// </summary>
    public static void Save(string directory, Seq2SeqModel model, IOptimizer optimizer, TrainerState state)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(state);
        var stage = CheckpointCommit.Stage(directory);
        try
        {
            using var optimizerState = optimizer.ExportState();
            Checkpoint.WriteFiles(model, stage, new Dictionary<string, string> { ["step"] = state.Step.ToString() });
            SafetensorsWriter.Write(Path.Combine(stage, OptimizerFile), optimizerState.Tensors,
                new Dictionary<string, string> { ["optimizer"] = optimizerState.Kind });
            var files = new Dictionary<string, FileDigest>(StringComparer.Ordinal);
            foreach (var name in new[] { Checkpoint.ConfigFileName, Checkpoint.WeightsFile, OptimizerFile })
                files[name] = Digest(Path.Combine(stage, name));
            var final = state with
            {
                OptimizerKind = optimizerState.Kind,
                OptimizerStep = optimizerState.Step,
                OptimizerScalars = new Dictionary<string, double>(optimizerState.Scalars, StringComparer.Ordinal),
                Files = files,
            };
            File.WriteAllText(Path.Combine(stage, StateFile),
                JsonSerializer.Serialize(final, TrainingJsonContext.Default.TrainerState));
            BeforeCommit?.Invoke(directory);
            CheckpointCommit.Commit(directory, stage, CommitOrder);
        }
        finally
        {
            CheckpointCommit.TryDeleteDirectory(stage);
        }
    }

    /// <summary>True when <paramref name="directory"/> holds a trainer-state file (without validating it).</summary>
    public static bool LooksLikeTrainingCheckpoint(string directory) =>
        File.Exists(Path.Combine(directory, StateFile));

    /// <summary>Reads and validates the trainer state of <paramref name="directory"/> and the digests of its
    /// files.</summary>
    /// <exception cref="CheckpointException">The directory or state file is missing, unreadable, of another format,
    /// or a file does not match its recorded digest (an interrupted save or a modified checkpoint).</exception>
    public static TrainerState ReadState(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory))
            throw new CheckpointException(directory, "the checkpoint directory does not exist");
        Checkpoint.Recover(directory);
        var statePath = Path.Combine(directory, StateFile);
        if (!File.Exists(statePath))
            throw new CheckpointException(directory, $"not a training checkpoint: {StateFile} is missing (a " +
                "model-only checkpoint, or a save that did not finish)");
        TrainerState? state;
        try
        {
            state = JsonSerializer.Deserialize(File.ReadAllText(statePath), TrainingJsonContext.Default.TrainerState);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or IOException)
        {
            throw new CheckpointException(directory, $"{StateFile} is unreadable: {e.Message}", e);
        }
        if (state is null || state.Format != TrainerState.FormatName)
            throw new CheckpointException(directory, $"{StateFile} is not a CoLT5 trainer state");
        if (state.Version != TrainerState.CurrentVersion)
            throw new CheckpointException(directory, $"{StateFile} has version {state.Version}; this build reads " +
                $"version {TrainerState.CurrentVersion}");
        foreach (var name in new[] { Checkpoint.ConfigFileName, Checkpoint.WeightsFile, OptimizerFile })
        {
            if (!state.Files.ContainsKey(name))
                throw new CheckpointException(directory, $"{StateFile} records no digest for {name}");
        }
        foreach (var (name, expected) in state.Files)
        {
            var path = Path.Combine(directory, name);
            if (!File.Exists(path))
                throw new CheckpointException(directory, $"{name} is missing");
            var actual = Digest(path);
            if (actual != expected)
                throw new CheckpointException(directory, $"{name} does not match {StateFile} (size {actual.Size}, " +
                    $"expected {expected.Size}; an interrupted save or a modified file)");
        }
        try
        {
            state.Options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CheckpointException(directory, e.Message, e);
        }
        return state;
    }

    /// <summary>
    /// The parsed trainer state of <paramref name="directory"/> without checking the other files (cheap: for
    /// settings such as the trained length limits), or null when there is none or it does not parse.
    /// </summary>
    public static TrainerState? PeekState(string directory)
    {
        var path = Path.Combine(directory, StateFile);
        try
        {
            CheckpointCommit.Complete(directory);
            var state = File.Exists(path)
                ? JsonSerializer.Deserialize(File.ReadAllText(path), TrainingJsonContext.Default.TrainerState)
                : null;
            return state?.Format == TrainerState.FormatName ? state : null;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or IOException
                                      or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Loads the optimizer state of a validated checkpoint (the caller disposes it).</summary>
    /// <exception cref="CheckpointException">The file cannot be read.</exception>
    public static OptimizerState ReadOptimizerState(string directory, TrainerState state, DType dtype, Device device)
    {
        ArgumentNullException.ThrowIfNull(state);
        var tensors = new List<(string Name, Tensor Tensor)>();
        try
        {
            using var file = SafetensorsFile.Open(Path.Combine(directory, OptimizerFile));
            foreach (var entry in file.Entries)
                tensors.Add((entry.Name, file.Load(entry.Name, dtype, device)));
            return new OptimizerState(state.OptimizerKind, state.OptimizerStep, state.OptimizerScalars, tensors);
        }
        catch (Exception e) when (e is SafetensorsException or IOException or ArgumentException)
        {
            foreach (var (_, t) in tensors)
                t.Dispose();
            throw new CheckpointException(directory, $"{OptimizerFile}: {e.Message}", e);
        }
    }

    private static FileDigest Digest(string path) => new(new FileInfo(path).Length, TrainingData.Sha256(path));
}
