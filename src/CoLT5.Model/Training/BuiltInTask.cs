// The one place that sets what `colt5 train` does with no arguments: model, retrieval-task lengths, batch, optimizer,
// learning rate, steps and evaluation size. Tune here; the CLI and the docs read these values.
using System;
using CoLT5.Model.Configuration;
using CoLT5.Model.Data;

namespace CoLT5.Model.Training;

/// <summary>
/// Settings of the built-in long-range retrieval run. <see cref="Task"/> fixes the documents (lengths in byte
/// tokens, and the minimum distance between the queried record and the question); the rest are training options.
/// </summary>
public sealed record BuiltInTaskSettings
{
    /// <summary>Model preset.</summary>
    public string Preset { get; init; } = "tiny";

    /// <summary>Encoder type ("colt5"; the CLI's --encoder switches to a baseline on the same task).</summary>
    public string Encoder { get; init; } = "colt5";

    /// <summary>The retrieval task: document lengths, record format, minimum distance (byte tokens).</summary>
    public KeyValueRetrievalOptions Task { get; init; } = new()
    {
        MinDocumentLength = 2048,
        MaxDocumentLength = 4000,
        MinDistance = 1024,
    };

    /// <summary>Examples per step.</summary>
    public int BatchSize { get; init; } = 4;

    /// <summary>Optimizer.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.AdamW;

    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; init; } = 3e-3;

    /// <summary>Schedule after the warm-up.</summary>
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Cosine;

    /// <summary>Linear warm-up steps.</summary>
    public long WarmupSteps { get; init; } = 20;

    /// <summary>Optimizer steps.</summary>
    public long Steps { get; init; } = 300;

    /// <summary>Gradient clipping threshold.</summary>
    public double? ClipNorm { get; init; } = 1.0;

    /// <summary>Held-out examples for the final exact-match accuracy.</summary>
    public int EvalSize { get; init; } = 200;

    /// <summary>Evaluate every this many steps (0: only at the end).</summary>
    public long EvalEvery { get; init; }

    /// <summary>Seed of the initialisation, dropout and the task's examples.</summary>
    public ulong Seed { get; init; }

    /// <summary>The model configuration for <paramref name="encoder"/> (null: <see cref="Encoder"/>).</summary>
    public ModelConfig Model(string? encoder = null) => Presets.Get(Preset).WithEncoder(encoder ?? Encoder);

    /// <summary>The training options these settings describe.</summary>
    public TrainingOptions Training() => new()
    {
        Optimizer = Optimizer,
        LearningRate = LearningRate,
        Schedule = Schedule,
        WarmupSteps = WarmupSteps,
        MaxSteps = Steps,
        BatchSize = BatchSize,
        ClipNorm = ClipNorm,
        EvalSize = EvalSize,
        EvalEvery = EvalEvery,
        Seed = Seed,
    };

    /// <summary>The data of the run.</summary>
    public TrainingDataSpec Data() => TrainingDataSpec.ForRetrieval(Seed, Task);
}

/// <summary>The built-in long-range retrieval task of <c>colt5 train</c>.</summary>
public static class BuiltInTask
{
    /// <summary>The defaults of <c>colt5 train</c> with no arguments.</summary>
    public static BuiltInTaskSettings Defaults { get; } = new();

    /// <summary>
    /// Task options scaled to documents of at most <paramref name="maxDocumentLength"/> characters, keeping the
    /// defaults' proportions (shortest document about half, minimum distance about a quarter of it).
    /// </summary>
    public static KeyValueRetrievalOptions ScaledTask(int maxDocumentLength)
    {
        var record = Defaults.Task.RecordLength;
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDocumentLength, 8 * record);
        return Defaults.Task with
        {
            MaxDocumentLength = maxDocumentLength,
            MinDocumentLength = maxDocumentLength / 2,
            MinDistance = maxDocumentLength / 4,
        };
    }
}
