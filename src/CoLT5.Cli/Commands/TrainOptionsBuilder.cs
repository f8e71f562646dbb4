// Applies `colt5 train` flags to TrainingOptions (fresh defaults or a checkpoint's saved options).
using System;
using CoLT5.Model.Training;

namespace CoLT5.Cli.Commands;

/// <summary>Flags → <see cref="TrainingOptions"/>.</summary>
internal static class TrainOptionsBuilder
{
    /// <summary>
    /// <paramref name="options"/> with every given flag applied. When resuming, flags that would change the
    /// trajectory are still applied, so the trainer's check can name the difference.
    /// </summary>
    public static TrainingOptions Apply(TrainingOptions options, TrainArguments a, bool resumed)
    {
        var o = options;
        if (a.Steps is { } steps)
            o = o with { MaxSteps = steps, DecaySteps = resumed ? o.DecaySteps : null };
        if (a.Seed is { } seed)
            o = o with { Seed = seed };
        if (a.BatchSize is { } batch)
            o = o with { BatchSize = batch };
        if (a.GradAccum is { } accumulate)
            o = o with { GradientAccumulation = accumulate };
        if (a.LearningRate is { } lr)
            o = o with { LearningRate = lr };
        if (a.Optimizer is { } optimizer)
            o = o with { Optimizer = ParseOptimizer(optimizer) };
        if (a.Schedule is { } schedule)
            o = o with { Schedule = ParseSchedule(schedule) };
        if (a.Warmup is { } warmup)
            o = o with { WarmupSteps = warmup };
        if (a.ClipNorm is { } clip)
            o = o with { ClipNorm = clip == 0 ? null : clip };
        if (a.Dropout is { } dropout)
            o = o with { Dropout = dropout };
        if (a.ZLoss is { } zLoss)
            o = o with { ZLoss = zLoss };
        if (a.WeightDecay is { } weightDecay)
            o = o with { WeightDecay = weightDecay };
        if (a.EvalEvery is { } evalEvery)
            o = o with { EvalEvery = evalEvery };
        if (a.EvalSize is { } evalSize)
            o = o with { EvalSize = evalSize };
        if (a.CheckpointEvery is { } checkpointEvery)
            o = o with { CheckpointEvery = checkpointEvery };
        if (a.LogEvery is { } logEvery)
            o = o with { LogEvery = logEvery };
        // A short fresh run with a default warm-up longer than itself keeps a tenth of its steps as warm-up.
        if (!resumed && a.Warmup is null && o.WarmupSteps > 0 && o.WarmupSteps >= o.MaxSteps)
            o = o with { WarmupSteps = o.MaxSteps / 10 };
        return o;
    }

    /// <summary>"adafactor" or "adamw".</summary>
    public static OptimizerKind ParseOptimizer(string name) => name.ToLowerInvariant() switch
    {
        "adafactor" => OptimizerKind.Adafactor,
        "adamw" => OptimizerKind.AdamW,
        _ => throw new CliException($"unknown optimizer '{name}' (expected adafactor or adamw)"),
    };

    /// <summary>"constant", "linear", "rsqrt" or "cosine".</summary>
    public static ScheduleKind ParseSchedule(string name) => name.ToLowerInvariant() switch
    {
        "constant" => ScheduleKind.Constant,
        "linear" => ScheduleKind.Linear,
        "rsqrt" => ScheduleKind.Rsqrt,
        "cosine" => ScheduleKind.Cosine,
        _ => throw new CliException($"unknown schedule '{name}' (expected constant, linear, rsqrt or cosine)"),
    };

    /// <summary>Lower-case CLI spelling of an enum value.</summary>
    public static string Name<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();
}
