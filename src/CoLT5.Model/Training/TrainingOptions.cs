// Everything that defines a training run: optimizer, learning-rate schedule, batch and accumulation, clipping,
// dropout, z-loss, seed, and the evaluation / checkpoint / logging cadence. Saved in every training checkpoint.
using System;
using System.Collections.Generic;
using System.Text.Json.Serialization;
using CoLT5.Tensors;

namespace CoLT5.Model.Training;

/// <summary>The optimizer of a run.</summary>
public enum OptimizerKind
{
    /// <summary>Adafactor as T5X configures it for T5.1.1 (factored moments, decay 0.8, update clipping).</summary>
    Adafactor,

    /// <summary>AdamW with PyTorch's β = (0.9, 0.999) and ε = 1e-8, and
    /// <see cref="TrainingOptions.WeightDecay"/>.</summary>
    AdamW,
}

/// <summary>The learning-rate schedule of a run; every kind takes an optional linear warm-up.</summary>
public enum ScheduleKind
{
    /// <summary>The learning rate throughout (after the warm-up ramp).</summary>
    Constant,

    /// <summary>Linear decay from the learning rate to 0 at <see cref="TrainingOptions.DecaySteps"/>.</summary>
    Linear,

    /// <summary>
    /// T5X's inverse square root: constant for <see cref="TrainingOptions.WarmupSteps"/> steps (a plateau, not a
    /// ramp), then lr·√(W / step). lr 0.01 with W = 10⁴ is T5.1.1 pre-training's 1/√max(step, 10⁴).
    /// </summary>
    Rsqrt,

    /// <summary>Half a cosine from the learning rate to 0 at <see cref="TrainingOptions.DecaySteps"/>.</summary>
    Cosine,
}

/// <summary>
/// The settings of a training run. Options that shape the trajectory (optimizer, schedule, batch, accumulation,
/// clipping, dropout, z-loss, seed, dtype) are fixed for the run's life; <see cref="MaxSteps"/> and the
/// evaluation, checkpoint and logging cadence may change when a run is resumed (see
/// <see cref="TrajectoryDifference"/>).
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>The optimizer. Default Adafactor (CoLT5's).</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adafactor;

    /// <summary>Peak learning rate. Default 1e-3 (CoLT5 fine-tuning's constant rate).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>The schedule. Default constant.</summary>
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Constant;

    /// <summary>Linear warm-up steps from 0 (rsqrt: the length of the constant plateau). Default 0.</summary>
    public long WarmupSteps { get; init; }

    /// <summary>Where linear and cosine decay reach 0; null means <see cref="MaxSteps"/> at the run's start
    /// (<see cref="Resolved"/> fixes it so that a resumed run with more steps keeps the schedule).</summary>
    public long? DecaySteps { get; init; }

    /// <summary>Optimizer steps to train for (the total, counting steps before a resume). Default 1000.</summary>
    public long MaxSteps { get; init; } = 1000;

    /// <summary>Examples per micro-batch. Default 8.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Micro-batches per optimizer step (their gradients are averaged). Default 1.</summary>
    public int GradientAccumulation { get; init; } = 1;

    /// <summary>Global gradient-norm clipping threshold; null for none. Default 1.0.</summary>
    public double? ClipNorm { get; init; } = 1.0;

    /// <summary>Dropout rate written into the model config's <c>dropout_rate</c>; null keeps the config's.</summary>
    public double? Dropout { get; init; }

    /// <summary>z-loss coefficient (T5X uses 1e-4). Default 0.</summary>
    public double ZLoss { get; init; }

    /// <summary>AdamW's decoupled weight decay λ (Adafactor: none). Default 0.</summary>
    public double WeightDecay { get; init; }

    /// <summary>
    /// Multiplier of the learning rate for the relative position bias tables (parameters whose name contains
    /// <c>relative_attention_bias</c>). Default 1. The tables start near zero, and a sharp positional head (attend
    /// to the previous token) needs bias gaps of several nats; Adam moves each entry by about the learning rate
    /// per step, so at 1e-3 that takes thousands of steps. docs/retrieval-task.md shows the measurement.
    /// </summary>
    public double PositionBiasLearningRateScale { get; init; } = 1;

    /// <summary>Seed of the parameter initialisation, dropout and the built-in task's examples. Default 0.</summary>
    public ulong Seed { get; init; }

    /// <summary>Parameter dtype: Float32 (default) or Float64.</summary>
    [JsonPropertyName("dtype")] public DType DType { get; init; } = DType.Float32;

    /// <summary>Evaluate on held-out examples every this many steps; 0 only at the end. Default 0.</summary>
    public long EvalEvery { get; init; }

    /// <summary>Held-out examples per evaluation (at most those available). Default 100.</summary>
    public int EvalSize { get; init; } = 100;

    /// <summary>Examples per evaluation batch; null means <see cref="BatchSize"/>.</summary>
    public int? EvalBatchSize { get; init; }

    /// <summary>Save a checkpoint every this many steps; 0 only at the end (and on cancellation). Default 0.</summary>
    public long CheckpointEvery { get; init; }

    /// <summary>Mark every this many steps as a log step in the progress reports. Default 10.</summary>
    public long LogEvery { get; init; } = 10;

    /// <summary>The options with <see cref="DecaySteps"/> fixed (to <see cref="MaxSteps"/> when unset).</summary>
    public TrainingOptions Resolved() => this with { DecaySteps = DecaySteps ?? MaxSteps };

    /// <summary>Checks every value and throws one <see cref="ArgumentException"/> listing the problems.</summary>
    public TrainingOptions Validate()
    {
        var problems = new List<string>();
        void Require(bool ok, string message)
        {
            if (!ok)
                problems.Add(message);
        }
        Require(double.IsFinite(LearningRate) && LearningRate > 0,
            $"learning rate must be positive, got {LearningRate}");
        Require(WarmupSteps >= 0, "warm-up steps must not be negative");
        Require(MaxSteps >= 0, "max steps must not be negative");
        Require(DecaySteps is null or > 0, "decay steps must be positive");
        Require(Schedule is not (ScheduleKind.Linear or ScheduleKind.Cosine) || (DecaySteps ?? MaxSteps) > WarmupSteps,
            $"a {Schedule.ToString().ToLowerInvariant()} schedule needs more steps ({DecaySteps ?? MaxSteps}) than " +
            $"warm-up steps ({WarmupSteps})");
        Require(BatchSize > 0, $"batch size must be positive, got {BatchSize}");
        Require(GradientAccumulation > 0, "gradient accumulation must be at least 1");
        Require(ClipNorm is null or > 0, "clip norm must be positive");
        Require(Dropout is null or (>= 0 and < 1), $"dropout must lie in [0, 1), got {Dropout}");
        Require(ZLoss >= 0 && WeightDecay >= 0, "z-loss and weight decay must not be negative");
        Require(double.IsFinite(PositionBiasLearningRateScale) && PositionBiasLearningRateScale > 0,
            $"position-bias learning-rate scale must be positive, got {PositionBiasLearningRateScale}");
        Require(DType is DType.Float32 or DType.Float64, $"parameters must be float32 or float64, not {DType.Name()}");
        Require(EvalEvery >= 0 && CheckpointEvery >= 0 && LogEvery >= 0, "intervals must not be negative");
        Require(EvalSize >= 0, "eval size must not be negative");
        Require(EvalBatchSize is null or > 0, "eval batch size must be positive");
        Require(Enum.IsDefined(Optimizer) && Enum.IsDefined(Schedule), "unknown optimizer or schedule");
        if (problems.Count > 0)
            throw new ArgumentException("invalid training options: " + string.Join("; ", problems));
        return this;
    }

    /// <summary>
    /// The first option whose change would alter the trajectory of a resumed run ("learning rate 0.001 → 0.01"),
    /// or null when <paramref name="other"/> continues this run exactly (only max steps and cadences differ).
    /// </summary>
    public string? TrajectoryDifference(TrainingOptions other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var a = Resolved();
        var b = other.Resolved();
        static string? Diff<T>(string name, T x, T y) =>
            EqualityComparer<T>.Default.Equals(x, y) ? null : $"{name} {x} → {y}";
        return Diff("optimizer", a.Optimizer, b.Optimizer)
            ?? Diff("learning rate", a.LearningRate, b.LearningRate)
            ?? Diff("position-bias learning-rate scale", a.PositionBiasLearningRateScale,
                b.PositionBiasLearningRateScale)
            ?? Diff("schedule", a.Schedule, b.Schedule)
            ?? Diff("warm-up steps", a.WarmupSteps, b.WarmupSteps)
            ?? Diff("decay steps", a.DecaySteps, b.DecaySteps)
            ?? Diff("batch size", a.BatchSize, b.BatchSize)
            ?? Diff("gradient accumulation", a.GradientAccumulation, b.GradientAccumulation)
            ?? Diff("clip norm", a.ClipNorm, b.ClipNorm)
            ?? Diff("dropout", a.Dropout, b.Dropout)
            ?? Diff("z-loss", a.ZLoss, b.ZLoss)
            ?? Diff("weight decay", a.WeightDecay, b.WeightDecay)
            ?? Diff("seed", a.Seed, b.Seed)
            ?? Diff("dtype", a.DType, b.DType);
    }
}
