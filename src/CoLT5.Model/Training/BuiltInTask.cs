// The one place that sets what `colt5 train` does with no arguments: model, retrieval-task lengths, batch, optimizer,
// learning rate, steps and evaluation size. Tune here; the CLI and the docs read these values.
using System;
using System.Collections.Generic;
using System.Linq;
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

    /// <summary>
    /// The retrieval task (byte tokens): documents of 2048–4000 characters of random lower-case filler with one
    /// record <c>[4821=QZM]</c> hidden at least 1024 characters before the question <c>?[4821</c>; the answer is the
    /// record's three upper-case letters. See docs/retrieval-task.md for why one record and what more records
    /// measure.
    /// </summary>
    public KeyValueRetrievalOptions Task { get; init; } = new()
    {
        KeyPrefix = "[",
        KeyValueSeparator = "=",
        RecordTerminator = "]",
        QuestionPrefix = "?",
        ValueAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        FillerAlphabet = "abcdefghijklmnopqrstuvwxyz ",
        RecordCount = 1,
        MinDocumentLength = 2048,
        MaxDocumentLength = 4000,
        MinDistance = 1024,
    };

    /// <summary>
    /// Document-length warm-up before the task's own lengths: short documents first, where attention is not yet
    /// spread over thousands of tokens and the retrieval heads form quickly (see docs/retrieval-task.md). Stages
    /// count optimizer steps (<see cref="BuiltInTask.WarmupFor"/> turns them into micro-batches).
    /// </summary>
    public IReadOnlyList<RetrievalStage> Warmup { get; init; } =
        [new(300, 64), new(300, 256), new(250, 1024)];

    /// <summary>Learning-rate multiplier of the relative position bias tables (see
    /// <see cref="TrainingOptions.PositionBiasLearningRateScale"/>).</summary>
    public double PositionBiasLearningRateScale { get; init; } = 30;

    /// <summary>Examples per step.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Optimizer.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.AdamW;

    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Schedule after the warm-up.</summary>
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Linear;

    /// <summary>Linear warm-up steps.</summary>
    public long WarmupSteps { get; init; } = 50;

    /// <summary>Optimizer steps.</summary>
    public long Steps { get; init; } = 950;

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
        PositionBiasLearningRateScale = PositionBiasLearningRateScale,
        EvalSize = EvalSize,
        EvalEvery = EvalEvery,
        Seed = Seed,
    };

    /// <summary>The data of the run.</summary>
    public TrainingDataSpec Data() => TrainingDataSpec.ForRetrieval(Seed, Task) with { RetrievalWarmup = Warmup };
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

    /// <summary>The defaults' warm-up stages that are shorter than <paramref name="task"/>'s shortest document,
    /// in micro-batches: each stage's optimizer steps × <paramref name="gradientAccumulation"/>, so the warm-up
    /// spans the same steps whatever the accumulation.</summary>
    public static IReadOnlyList<RetrievalStage> WarmupFor(KeyValueRetrievalOptions task, int gradientAccumulation = 1)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(gradientAccumulation);
        return Defaults.Warmup.Where(stage => stage.DocumentLength < task.MinDocumentLength)
            .Select(stage => stage with { Batches = checked(stage.Batches * gradientAccumulation) }).ToList();
    }
}
