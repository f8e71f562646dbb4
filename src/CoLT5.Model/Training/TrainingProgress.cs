// What the training loop reports: one step's numbers, an evaluation's, progress events for a display, and the
// summary of a Run call.
using System;

namespace CoLT5.Model.Training;

/// <summary>One optimizer step.</summary>
/// <param name="Step">Completed optimizer steps after this one (1 for the first).</param>
/// <param name="Loss">Mean training loss over the step's micro-batches.</param>
/// <param name="LearningRate">The learning rate the step used.</param>
/// <param name="GradNorm">Global gradient norm before clipping (null when not clipping).</param>
/// <param name="Tokens">Real (non-pad) input plus target tokens processed.</param>
/// <param name="Seconds">Wall time of the step.</param>
/// <param name="InWarmup">True when a micro-batch came from the data's warm-up
/// (<see cref="ITrainingData.WarmupBatches"/>).</param>
/// <param name="AuxiliaryLoss">The part of <paramref name="Loss"/> that is the encoder's auxiliary loss (Sparse
/// Mixer's weighted router z-loss), averaged like it; 0 for the other encoders.</param>
public sealed record StepResult(long Step, double Loss, double LearningRate, double? GradNorm, long Tokens,
    double Seconds, bool InWarmup = false, double AuxiliaryLoss = 0);

/// <summary>A held-out evaluation.</summary>
/// <param name="Examples">Examples evaluated.</param>
/// <param name="Loss">Token-weighted mean cross-entropy (teacher forcing).</param>
/// <param name="Correct">Greedy generations that equal the target exactly.</param>
/// <param name="Seconds">Wall time of the evaluation.</param>
public sealed record EvaluationResult(int Examples, double Loss, int Correct, double Seconds)
{
    /// <summary>Exact-match accuracy (0 when there were no examples).</summary>
    public double Accuracy => Examples == 0 ? 0 : (double)Correct / Examples;
}

/// <summary>What a progress report is about.</summary>
public enum TrainingEvent
{
    /// <summary>An optimizer step finished.</summary>
    Step,

    /// <summary>A held-out evaluation finished (<see cref="TrainingProgress.Evaluation"/>).</summary>
    Evaluation,

    /// <summary>A checkpoint was written (<see cref="TrainingProgress.CheckpointDirectory"/>).</summary>
    Checkpoint,
}

/// <summary>A progress report of <see cref="Trainer.Run"/>.</summary>
public sealed record TrainingProgress
{
    /// <summary>What happened.</summary>
    public TrainingEvent Event { get; init; }

    /// <summary>Completed optimizer steps.</summary>
    public long Step { get; init; }

    /// <summary>The step the run trains to.</summary>
    public long MaxSteps { get; init; }

    /// <summary>The last step's loss (NaN before the first step of this run).</summary>
    public double Loss { get; init; } = double.NaN;

    /// <summary>Mean loss over the steps since the previous log step.</summary>
    public double AverageLoss { get; init; } = double.NaN;

    /// <summary>The last step's auxiliary loss (Sparse Mixer's router z-loss, included in <see cref="Loss"/>); 0 for
    /// the other encoders.</summary>
    public double AuxiliaryLoss { get; init; }

    /// <summary>The last step's learning rate.</summary>
    public double LearningRate { get; init; }

    /// <summary>The last step's gradient norm before clipping, when clipping.</summary>
    public double? GradNorm { get; init; }

    /// <summary>Real (non-pad) input and target tokens per second of training, over this run's steps.</summary>
    public double TokensPerSecond { get; init; }

    /// <summary>Mean wall time of this run's steps, in milliseconds.</summary>
    public double MillisecondsPerStep { get; init; }

    /// <summary>Wall time since <see cref="Trainer.Run"/> started.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>Estimated time to <see cref="MaxSteps"/> at the mean step time (evaluations not counted).</summary>
    public TimeSpan Eta { get; init; }

    /// <summary>True on every <see cref="TrainingOptions.LogEvery"/>-th step, the last step, and other
    /// events.</summary>
    public bool ShouldLog { get; init; }

    /// <summary>The evaluation, for <see cref="TrainingEvent.Evaluation"/>.</summary>
    public EvaluationResult? Evaluation { get; init; }

    /// <summary>The directory written, for <see cref="TrainingEvent.Checkpoint"/>.</summary>
    public string? CheckpointDirectory { get; init; }
}

/// <summary>The outcome of <see cref="Trainer.Run"/>.</summary>
/// <param name="Step">Completed optimizer steps at the end (the total, counting steps before a resume).</param>
/// <param name="StepsThisRun">Steps taken by this call.</param>
/// <param name="Cancelled">True when cancellation stopped the run early.</param>
/// <param name="LastLoss">The last step's loss (NaN when no step ran).</param>
/// <param name="MillisecondsPerStep">Mean wall time of this call's steps (NaN when none ran).</param>
/// <param name="StepsAfterWarmup">This call's steps outside the data's warm-up.</param>
/// <param name="MillisecondsPerStepAfterWarmup">Mean wall time of those steps (NaN when none ran): the cost of a
/// step at the task's full input length, which the overall mean understates when a length warm-up ran.</param>
/// <param name="Elapsed">Wall time of the call, evaluations and checkpoints included.</param>
/// <param name="Evaluation">The final held-out evaluation (null when none ran).</param>
/// <param name="CheckpointDirectory">Where the final checkpoint went (null when none was written).</param>
public sealed record TrainingResult(long Step, long StepsThisRun, bool Cancelled, double LastLoss,
    double MillisecondsPerStep, TimeSpan Elapsed, EvaluationResult? Evaluation, string? CheckpointDirectory,
    long StepsAfterWarmup = 0, double MillisecondsPerStepAfterWarmup = double.NaN);
