// Shows training progress: a Spectre.Console live bar (step, loss, tokens/s, lr, ETA) on a terminal, or plain
// progress lines when the output is redirected (CI, pipes, tests) or --plain is given.
using System;
using System.IO;
using CoLT5.Model.Training;
using Spectre.Console;

namespace CoLT5.Cli.Output;

/// <summary>Runs a trainer with the right progress display.</summary>
internal static class TrainingDisplay
{
    public static TrainingResult Run(Trainer trainer, string checkpointDirectory, CliContext context, bool plain)
    {
        if (plain || !context.Interactive || !AnsiConsole.Profile.Capabilities.Interactive)
            return trainer.Run(checkpointDirectory, new LineReporter(context.Out), null, context.CancellationToken);
        TrainingResult? result = null;
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new ProgressBarColumn(), new PercentageColumn(),
                new TaskDescriptionColumn { Alignment = Justify.Left }, new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape($"step {trainer.Step}/{trainer.Options.MaxSteps}"),
                    maxValue: Math.Max(1, trainer.Options.MaxSteps));
                task.Value = trainer.Step;
                result = trainer.Run(checkpointDirectory, new BarReporter(task), null, context.CancellationToken);
                task.Value = task.MaxValue;
            });
        return result!;
    }

    /// <summary>One line per log step (and per evaluation and checkpoint).</summary>
    internal static string? Line(TrainingProgress p) => p.Event switch
    {
        TrainingEvent.Step when p.ShouldLog =>
            $"step {p.Step}/{p.MaxSteps}  loss {p.Loss:F4} (avg {p.AverageLoss:F4}){Auxiliary(p)}  " +
            $"lr {p.LearningRate:0.00e0}  {p.TokensPerSecond:F0} tok/s  {p.MillisecondsPerStep:F0} ms/step  " +
            $"elapsed {Format.Duration(p.Elapsed)}  eta {Format.Duration(p.Eta)}",
        TrainingEvent.Evaluation when p.Evaluation is { } e =>
            $"eval @ step {p.Step}: loss {e.Loss:F4}, exact match {e.Correct}/{e.Examples} = {e.Accuracy:F3} " +
            $"({e.Seconds:F1} s)",
        TrainingEvent.Checkpoint => $"checkpoint @ step {p.Step}: {p.CheckpointDirectory}",
        _ => null,
    };

    // The auxiliary part of the loss (Sparse Mixer's router z-loss), shown only when there is one.
    private static string Auxiliary(TrainingProgress p) =>
        p.AuxiliaryLoss > 0 ? $"  router z-loss {p.AuxiliaryLoss:0.00e0}" : "";

    /// <summary>The live bar's text for a step.</summary>
    internal static string BarText(TrainingProgress p) =>
        $"step {p.Step}/{p.MaxSteps}  loss {p.Loss:F4}  {p.TokensPerSecond:F0} tok/s  lr {p.LearningRate:0.00e0}  " +
        $"{p.MillisecondsPerStep:F0} ms/step  ETA {Format.Duration(p.Eta)}";

    /// <summary>Synchronous progress lines to a writer.</summary>
    private sealed class LineReporter(TextWriter writer) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (Line(value) is { } line)
            {
                writer.WriteLine(line);
                writer.Flush();
            }
        }
    }

    /// <summary>Updates the live bar; evaluation and checkpoint lines go above it.</summary>
    private sealed class BarReporter(ProgressTask task) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Event == TrainingEvent.Step)
            {
                task.Value = value.Step;
                task.Description = Markup.Escape(BarText(value));
            }
            else if (Line(value) is { } line)
            {
                AnsiConsole.MarkupLine(Markup.Escape(line));
            }
        }
    }
}
