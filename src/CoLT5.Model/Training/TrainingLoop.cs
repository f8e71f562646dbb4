// One Trainer.Run call: steps until the target, progress reports with tokens/s and ETA, periodic evaluation and
// checkpoints, the final evaluation and save, and the clean stop on cancellation.
using System;
using System.Diagnostics;
using System.Threading;

namespace CoLT5.Model.Training;

/// <summary>The state of one <see cref="Trainer.Run"/> call.</summary>
internal sealed class TrainingLoop(Trainer trainer, string? checkpointDirectory, IProgress<TrainingProgress>? progress,
    CancellationToken cancellationToken)
{
    private readonly Stopwatch clock = new();
    private double stepSeconds;
    private long steps;
    private double afterWarmupSeconds;
    private long afterWarmupSteps;
    private long tokens;
    private double lossSinceLog;
    private long stepsSinceLog;
    private StepResult? last;

    public TrainingResult Run(long target)
    {
        clock.Start();
        var options = trainer.Options;
        var cancelled = false;
        while (trainer.Step < target)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                cancelled = true;
                break;
            }
            last = trainer.TrainStep();
            steps++;
            stepSeconds += last.Seconds;
            if (!last.InWarmup)
            {
                afterWarmupSeconds += last.Seconds;
                afterWarmupSteps++;
            }
            tokens += last.Tokens;
            lossSinceLog += last.Loss;
            stepsSinceLog++;
            var isLog = options.LogEvery > 0 && trainer.Step % options.LogEvery == 0 || trainer.Step == target;
            Report(TrainingEvent.Step, target, isLog);
            if (isLog)
            {
                lossSinceLog = 0;
                stepsSinceLog = 0;
            }
            if (trainer.Step == target)
                break;
            if (options.EvalEvery > 0 && trainer.Step % options.EvalEvery == 0)
            {
                if (trainer.Evaluate(cancellationToken) is { } evaluation)
                    Report(TrainingEvent.Evaluation, target, true, evaluation);
            }
            if (options.CheckpointEvery > 0 && trainer.Step % options.CheckpointEvery == 0 &&
                checkpointDirectory is not null)
                Save(target);
        }
        cancelled |= cancellationToken.IsCancellationRequested;
        EvaluationResult? final = null;
        if (!cancelled)
        {
            final = trainer.Evaluate(cancellationToken);
            if (final is not null)
                Report(TrainingEvent.Evaluation, target, true, final);
            cancelled = cancellationToken.IsCancellationRequested;
        }
        if (checkpointDirectory is not null)
            Save(target);
        return new TrainingResult(trainer.Step, steps, cancelled, last?.Loss ?? double.NaN,
            steps == 0 ? double.NaN : stepSeconds * 1000 / steps, clock.Elapsed, final, checkpointDirectory,
            afterWarmupSteps, afterWarmupSteps == 0 ? double.NaN : afterWarmupSeconds * 1000 / afterWarmupSteps);
    }

    private void Save(long target)
    {
        trainer.SaveCheckpoint(checkpointDirectory!);
        Report(TrainingEvent.Checkpoint, target, true, checkpoint: checkpointDirectory);
    }

    private void Report(TrainingEvent kind, long target, bool log, EvaluationResult? evaluation = null,
        string? checkpoint = null)
    {
        if (progress is null)
            return;
        var perStep = steps == 0 ? 0 : stepSeconds / steps;
        progress.Report(new TrainingProgress
        {
            Event = kind,
            Step = trainer.Step,
            MaxSteps = target,
            Loss = last?.Loss ?? double.NaN,
            AverageLoss = stepsSinceLog == 0 ? last?.Loss ?? double.NaN : lossSinceLog / stepsSinceLog,
            AuxiliaryLoss = last?.AuxiliaryLoss ?? 0,
            LearningRate = last?.LearningRate ?? trainer.LearningRate,
            GradNorm = last?.GradNorm,
            TokensPerSecond = stepSeconds <= 0 ? 0 : tokens / stepSeconds,
            MillisecondsPerStep = perStep * 1000,
            Elapsed = clock.Elapsed,
            Eta = TimeSpan.FromSeconds(perStep * Math.Max(0, target - trainer.Step)),
            ShouldLog = log,
            Evaluation = evaluation,
            CheckpointDirectory = checkpoint,
        });
    }
}
