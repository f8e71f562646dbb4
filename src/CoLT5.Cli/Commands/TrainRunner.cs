// `colt5 train` in order: validate everything that can be wrong (model, options, output directory, data) before
// anything is written, build or resume the trainer, run it with a progress display, and print the summary whose
// last line is `accuracy: X`.
using System;
using System.Collections.Generic;
using System.IO;
using CoLT5.Cli.Output;
using CoLT5.Model.Checkpoints;
using CoLT5.Model.Configuration;
using CoLT5.Model.Training;

namespace CoLT5.Cli.Commands;

/// <summary>Executes <c>colt5 train</c>.</summary>
internal static class TrainRunner
{
    /// <summary>The default length limits for --data (tokens, EOS included).</summary>
    public const int DefaultMaxInputLength = 4096, DefaultMaxTargetLength = 512;

    public static int Execute(TrainArguments a, CliContext context)
    {
        CliOptions.ApplyThreads(a.Threads);
        var device = CliOptions.ResolveDevice(a.Device);
        string outDir;
        Trainer trainer;
        if (a.Resume is { } resume)
        {
            var state = TrainingCheckpoint.ReadState(resume);
            CheckResumeArguments(a, state, resume);
            outDir = a.Out ?? resume;
            if (!SamePath(outDir, resume))
                OutputDirectory.CheckWritable(outDir, a.Overwrite, "--out");
            trainer = Trainer.Resume(resume, o => TrainOptionsBuilder.Apply(o, a, resumed: true), device);
        }
        else
        {
            var setup = FreshRun.Prepare(a);
            outDir = setup.OutDir;
            trainer = a.Uptrain is { } start
                ? Trainer.CreateFrom(start, setup.Options, setup.Data, device)
                : Trainer.Create(setup.Config, setup.Options, setup.Data, device);
            if (setup.Data.SentencePieceModel is { } spm)
            {
                // the run's checkpoints are Hugging Face folders: the tokenizer goes with them
                Directory.CreateDirectory(outDir);
                AtomicFile.Copy(spm, Path.Combine(outDir, Checkpoint.SentencePieceFile));
            }
            foreach (var (key, value) in setup.Metadata)
                trainer.Metadata[key] = value;
        }
        using (trainer)
        {
            var writer = context.Out;
            WriteHeader(writer, trainer, outDir, a.Resume);
            var result = TrainingDisplay.Run(trainer, outDir, context, a.Plain);
            return WriteSummary(writer, trainer, result);
        }
    }

    private static void CheckResumeArguments(TrainArguments a, TrainerState state, string directory)
    {
        void Reject(string option, bool given)
        {
            if (given)
                throw new CliException($"{option} cannot be used with --resume: a resumed run keeps its model and " +
                    $"data (those of {directory})");
        }
        Reject("--uptrain", a.Uptrain is not null);
        var savedEncoder = ConfigFile.Read(Path.Combine(directory, Checkpoint.ConfigFileName)).Encoder.CliName();
        if (a.Encoder is { } encoder && new ModelConfig().WithEncoder(encoder).Encoder.CliName() != savedEncoder)
            throw new CliException($"--encoder {encoder} differs from the checkpoint's encoder {savedEncoder}");
        if (a.Preset is { } preset && !string.Equals(preset, state.Metadata.GetValueOrDefault("preset"),
                StringComparison.OrdinalIgnoreCase))
            throw new CliException($"--preset {preset} differs from the checkpoint's " +
                $"{state.Metadata.GetValueOrDefault("preset") ?? "configuration"}");
        if (a.Data is { } data && !(state.Data?.Path is { } path && SamePath(data, path)))
            throw new CliException($"--data {data} differs from the checkpoint's data " +
                $"({state.Data?.Path ?? "the built-in task"})");
        Reject("--eval-data", a.EvalData is not null);
        Reject("--config", a.Config is not null);
        Reject("--doc-length", a.DocLength is not null);
        Reject("--max-input-length", a.MaxInputLength is not null);
        Reject("--max-target-length", a.MaxTargetLength is not null);
        Reject("--truncate", a.Truncate);
    }

    private static void WriteHeader(TextWriter w, Trainer trainer, string outDir, string? resumedFrom)
    {
        var config = trainer.Model.Config;
        var o = trainer.Options;
        var parameters = ModelStatistics.Parameters(config).Total;
        var preset = trainer.Metadata.GetValueOrDefault("preset") ?? "custom";
        w.WriteLine($"model: {preset} {config.Encoder.CliName()} encoder, {Format.Count(parameters)} parameters " +
            $"(d_model {config.DModel}, {config.NumLayers}+{config.NumDecoderLayers} layers, {config.NumHeads} heads)");
        w.WriteLine("data: " + Format.Data(trainer.Data));
        w.WriteLine($"training: {o.MaxSteps} steps, batch {o.BatchSize}" +
            (o.GradientAccumulation > 1 ? $"×{o.GradientAccumulation}" : "") +
            $", {o.Optimizer.ToString().ToLowerInvariant()} lr {o.LearningRate:G4} " +
            $"{o.Schedule.ToString().ToLowerInvariant()}" + (o.WarmupSteps > 0 ? $" (warm-up {o.WarmupSteps})" : "") +
            (o.ClipNorm is { } clip ? $", clip {clip:G3}" : "") +
            $", dropout {config.DropoutRate:G3}, seed {o.Seed}, " +
            Tensors.Backends.BackendRegistry.Get(trainer.Model.Parameters.Device).Description);
        if (resumedFrom is not null)
            w.WriteLine($"resumed: step {trainer.Step} of {resumedFrom}");
        w.WriteLine($"checkpoint: {outDir}");
    }

    private static int WriteSummary(TextWriter w, Trainer trainer, TrainingResult result)
    {
        if (result.Cancelled)
        {
            w.WriteLine($"cancelled at step {result.Step}; checkpoint saved to {result.CheckpointDirectory} " +
                $"(continue with: colt5 train --resume {result.CheckpointDirectory})");
            return ExitCodes.Cancelled;
        }
        var evaluation = result.Evaluation;
        if (evaluation is not null)
            w.WriteLine($"held-out exact match: {evaluation.Correct}/{evaluation.Examples} " +
                $"(loss {evaluation.Loss:F4}, {evaluation.Seconds:F1} s)");
        w.WriteLine(double.IsNaN(result.MillisecondsPerStep)
            ? $"time per step: n/a (no steps run; the run was already at step {result.Step})"
            : $"time per step: {result.MillisecondsPerStep:F0} ms ({result.StepsThisRun} steps, " +
              $"{trainer.Model.Config.Encoder.CliName()} encoder)" + AfterWarmup(result));
        w.WriteLine($"checkpoint: {result.CheckpointDirectory}");
        w.WriteLine(evaluation is null
            ? "accuracy: n/a (no held-out examples)"
            : $"accuracy: {evaluation.Accuracy:F3}");
        return ExitCodes.Ok;
    }

    /// <summary>The full-length step time, when a length warm-up made the overall mean differ from it.</summary>
    private static string AfterWarmup(TrainingResult result) =>
        result.StepsAfterWarmup == 0 || result.StepsAfterWarmup == result.StepsThisRun
            ? ""
            : $"; {result.MillisecondsPerStepAfterWarmup:F0} ms over the {result.StepsAfterWarmup} steps " +
              "after the length warm-up";

    /// <summary>True when two paths name the same location (after making them absolute).</summary>
    public static bool SamePath(string a, string b) =>
        string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(a)),
            Path.TrimEndingDirectorySeparator(Path.GetFullPath(b)), StringComparison.Ordinal);
}
