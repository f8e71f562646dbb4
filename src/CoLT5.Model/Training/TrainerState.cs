// trainer-state.json: the step, options, data description and position, random-stream positions, optimizer scalars
// and a digest of every other file of the checkpoint, so that a partly written directory is never taken as valid.
using System.Collections.Generic;
using System.Text.Json.Serialization;

namespace CoLT5.Model.Training;

/// <summary>Size and SHA-256 of one checkpoint file.</summary>
/// <param name="Size">Bytes.</param>
/// <param name="Sha256">Lower-case hex digest.</param>
public sealed record FileDigest(long Size, string Sha256);

/// <summary>
/// The contents of <c>trainer-state.json</c>, the last file a training checkpoint writes. A directory is a valid
/// training checkpoint only when this file parses, has the expected <see cref="Format"/> and
/// <see cref="Version"/>, and every file in <see cref="Files"/> has the recorded size and digest.
/// </summary>
public sealed record TrainerState
{
    /// <summary>The format tag every state file carries.</summary>
    public const string FormatName = "colt5-trainer-state";

    /// <summary>The current format version.</summary>
    public const int CurrentVersion = 1;

    /// <summary>Always <see cref="FormatName"/>.</summary>
    public string Format { get; init; } = FormatName;

    /// <summary>The format version.</summary>
    public int Version { get; init; } = CurrentVersion;

    /// <summary>Completed optimizer steps.</summary>
    public long Step { get; init; }

    /// <summary>The run's options (resolved: decay steps fixed).</summary>
    public TrainingOptions Options { get; init; } = new();

    /// <summary>The run's data, or null for a caller-supplied source (then Resume needs it again).</summary>
    public TrainingDataSpec? Data { get; init; }

    /// <summary>Micro-batches consumed: the index of the next training batch.</summary>
    public long DataPosition { get; init; }

    /// <summary>Key of the dropout stream.</summary>
    public ulong DropoutSeed { get; init; }

    /// <summary>Counters the dropout stream has consumed.</summary>
    public ulong DropoutOffset { get; init; }

    /// <summary>Which optimizer wrote the optimizer state ("adafactor", "adamw").</summary>
    public string OptimizerKind { get; init; } = "";

    /// <summary>The optimizer's step count.</summary>
    public long OptimizerStep { get; init; }

    /// <summary>The optimizer's per-parameter scalars (update counts, <c>step/NAME</c>).</summary>
    public Dictionary<string, double> OptimizerScalars { get; init; } = [];

    /// <summary>Training wall time over all sessions of the run, in seconds (evaluations excluded).</summary>
    public double TrainingSeconds { get; init; }

    /// <summary>The last held-out evaluation, if any.</summary>
    public EvaluationResult? LastEvaluation { get; init; }

    /// <summary>Free-form notes of the caller (the CLI records its command line choices here).</summary>
    public Dictionary<string, string> Metadata { get; init; } = [];

    /// <summary>The other files of the checkpoint by name, with size and digest.</summary>
    public Dictionary<string, FileDigest> Files { get; init; } = [];
}

/// <summary>Source-generated JSON metadata for the training records (trimming-safe).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UseStringEnumConverter = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(TrainerState))]
internal sealed partial class TrainingJsonContext : JsonSerializerContext;
