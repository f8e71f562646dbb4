// The training loop: one optimizer step = K micro-batches of forward, loss, backward, then average, clip, step and
// zero the gradients, all inside a DisposeScope. Runs with progress, periodic evaluation and checkpoints, stops
// cleanly on cancellation, and resumes from a checkpoint bit for bit (weights, optimizer, data and dropout streams).
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using CoLT5.Model.Checkpoints;
using CoLT5.Model.Configuration;
using CoLT5.Model.Data;
using CoLT5.Nn;
using CoLT5.Nn.Optim;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;

namespace CoLT5.Model.Training;

/// <summary>
/// Trains a <see cref="Seq2SeqModel"/>. Create one with
/// <see cref="Create(ModelConfig, TrainingOptions, TrainingDataSpec, Device?)"/> or
/// <see cref="Resume(string, Func{TrainingOptions, TrainingOptions}?, Device?)"/>, then call <see cref="Run"/> (or
/// <see cref="TrainStep"/> for manual control). Same seed, options and data give the same losses; a run saved at step
/// N and resumed gives the same losses as one that never stopped. The trainer owns the model and the optimizer.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly Generator dropout;
    private readonly IOptimizer optimizer;
    private readonly GradientAccumulator accumulator;
    private readonly ITrainingData data;
    private double trainingSeconds;

    private Trainer(Seq2SeqModel model, Generator dropout, TrainingOptions options, TrainingDataSpec? spec,
        ITrainingData data, IReadOnlyList<Seq2SeqExample>? heldOut)
    {
        // Parameters belong to the store, never to a scope the caller happens to have open.
        if (DisposeScope.Current is { } scope)
        {
            foreach (var (_, parameter) in model.Parameters.Parameters)
                scope.Detach(parameter);
        }
        Model = model;
        this.dropout = dropout;
        Options = options;
        Data = spec;
        this.data = data;
        HeldOut = heldOut ?? [];
        optimizer = OptimizerFactory.Create(options, model.Parameters.Parameters);
        accumulator = new GradientAccumulator(optimizer, options.GradientAccumulation, options.ClipNorm);
    }

    /// <summary>The model being trained (owned by the trainer).</summary>
    public Seq2SeqModel Model { get; }

    /// <summary>The run's options (resolved: decay steps fixed).</summary>
    public TrainingOptions Options { get; private set; }

    /// <summary>The data description, or null for a caller-supplied source.</summary>
    public TrainingDataSpec? Data { get; }

    /// <summary>Held-out examples; evaluations use the first <see cref="TrainingOptions.EvalSize"/>.</summary>
    public IReadOnlyList<Seq2SeqExample> HeldOut { get; }

    /// <summary>Completed optimizer steps (the total, counting steps before a resume).</summary>
    public long Step { get; private set; }

    /// <summary>Micro-batches consumed: the index of the next training batch.</summary>
    public long DataPosition { get; private set; }

    /// <summary>The learning rate of the next step.</summary>
    public double LearningRate => optimizer.LearningRate;

    /// <summary>The last evaluation (from this session or the checkpoint), if any.</summary>
    public EvaluationResult? LastEvaluation { get; private set; }

    /// <summary>Notes saved in the trainer state (the CLI records its choices here).</summary>
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    /// <summary>A fresh run on the data <paramref name="spec"/> describes (read and validated here).</summary>
    public static Trainer Create(ModelConfig config, TrainingOptions options, TrainingDataSpec spec,
        Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(spec);
        options.Validate();
        var data = TrainingData.Open(spec, options.BatchSize);
        var heldOut = TrainingData.HeldOut(spec, options.EvalSize);
        return Create(config, options, spec, data, heldOut, device);
    }

    /// <summary>
    /// A fresh run (new optimizer, schedule from step 0) that starts from the weights of the model checkpoint in
    /// <paramref name="initialWeights"/> instead of a random initialisation: uptraining a converted model
    /// (<c>colt5 train --uptrain</c>) or fine-tuning. The model is the checkpoint's configuration, with the options'
    /// dropout rate when they set one.
    /// </summary>
    /// <exception cref="CheckpointException">The checkpoint cannot be loaded.</exception>
    public static Trainer CreateFrom(string initialWeights, TrainingOptions options, TrainingDataSpec spec,
        Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(spec);
        options = options.Validate().Resolved();
        var data = TrainingData.Open(spec, options.BatchSize);
        var heldOut = TrainingData.HeldOut(spec, options.EvalSize);
        using var start = Checkpoint.Load(initialWeights, options.DType, device);
        var store = new ParameterStore(options.DType, device, new Generator(options.Seed));
        using (Tensor.NoGrad())
        {
            foreach (var (name, tensor) in start.Parameters.Parameters)
                store.Add(name, tensor.ContiguousCopy());
        }
        var config = options.Dropout is { } rate ? start.Config with { DropoutRate = rate } : start.Config;
        return Create(config, options, spec, data, heldOut, device, store);
    }

    /// <summary>A fresh run on a caller-supplied source (resume it with the same source).</summary>
    public static Trainer Create(ModelConfig config, TrainingOptions options, ITrainingData data,
        IReadOnlyList<Seq2SeqExample>? heldOut = null, Device? device = null) =>
        Create(config, options, null, data, heldOut, device);

    private static Trainer Create(ModelConfig config, TrainingOptions options, TrainingDataSpec? spec,
        ITrainingData data, IReadOnlyList<Seq2SeqExample>? heldOut, Device? device, ParameterStore? weights = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(data);
        options = options.Validate().Resolved();
        if (options.Dropout is { } rate)
            config = config with { DropoutRate = rate };
        config.Validate();
        if (spec is not null && TrainingData.TokenizerFor(spec) is var tokenizer && config.VocabSize < tokenizer.VocabSize)
            throw new ConfigException($"vocab_size {config.VocabSize} is smaller than the " +
                $"{(spec.SentencePieceModel is null ? "byte tokenizer" : "SentencePiece model")}'s {tokenizer.VocabSize}");
        var store = weights ?? new ParameterStore(options.DType, device, new Generator(options.Seed));
        var dropout = new Generator(DropoutSeed(options.Seed));
        Seq2SeqModel model;
        try
        {
            model = new Seq2SeqModel(config, store, dropout);
            if (weights is not null && store.Created.Count > 0)
                throw new CheckpointException($"the initial weights lack {string.Join(", ", store.Created)}");
        }
        catch
        {
            store.Dispose();
            throw;
        }
        try
        {
            return new Trainer(model, dropout, options, spec, data, heldOut);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Continues the run saved in <paramref name="directory"/> on the data its state describes.
    /// <paramref name="adjust"/> may change max steps and the evaluation, checkpoint and logging cadence.
    /// </summary>
    /// <exception cref="CheckpointException">Not a valid training checkpoint, or it needs a caller-supplied
    /// source.</exception>
    /// <exception cref="ArgumentException">The adjusted options would change the trajectory.</exception>
    public static Trainer Resume(string directory, Func<TrainingOptions, TrainingOptions>? adjust = null,
        Device? device = null)
    {
        var state = TrainingCheckpoint.ReadState(directory);
        var spec = state.Data ?? throw new CheckpointException(directory, "the run was trained on a caller-supplied " +
            "data source; pass it to Resume");
        if (spec.Kind == TrainingDataKind.Jsonl && spec.Path is { } path && spec.Sha256 is { } sha)
        {
            if (!System.IO.File.Exists(path))
                throw new CheckpointException(directory, $"the run's data file {path} no longer exists");
            if (TrainingData.Sha256(path) != sha)
                throw new CheckpointException(directory, $"the run's data file {path} changed since the checkpoint " +
                    "was written; an exact resume needs the same data");
        }
        var options = Adjust(state.Options, adjust);
        var data = TrainingData.Open(spec, options.BatchSize);
        var heldOut = TrainingData.HeldOut(spec, options.EvalSize);
        return Resume(directory, state, options, spec, data, heldOut, device);
    }

    /// <summary>Continues the run saved in <paramref name="directory"/> on a caller-supplied source.</summary>
    public static Trainer Resume(string directory, ITrainingData data, IReadOnlyList<Seq2SeqExample>? heldOut,
        Func<TrainingOptions, TrainingOptions>? adjust = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        var state = TrainingCheckpoint.ReadState(directory);
        return Resume(directory, state, Adjust(state.Options, adjust), state.Data, data, heldOut, device);
    }

    private static TrainingOptions Adjust(TrainingOptions saved, Func<TrainingOptions, TrainingOptions>? adjust)
    {
        var options = (adjust?.Invoke(saved) ?? saved).Validate().Resolved();
        if (saved.TrajectoryDifference(options) is { } change)
            throw new ArgumentException($"a resumed run keeps its training options, but {change} was asked for");
        return options;
    }

    private static Trainer Resume(string directory, TrainerState state, TrainingOptions options,
        TrainingDataSpec? spec, ITrainingData data, IReadOnlyList<Seq2SeqExample>? heldOut, Device? device)
    {
        // Checkpoint.Load validates the weights against config.json; the model is then rebuilt over the same
        // parameters with the run's dropout stream at its saved position.
        var loaded = Checkpoint.Load(directory, options.DType, device);
        var dropout = new Generator(state.DropoutSeed) { Offset = state.DropoutOffset };
        var model = new Seq2SeqModel(loaded.Config, loaded.Parameters, dropout);
        Trainer? trainer = null;
        try
        {
            trainer = new Trainer(model, dropout, options, spec, data, heldOut);
            using (var saved = TrainingCheckpoint.ReadOptimizerState(directory, state, options.DType,
                       model.Parameters.Device))
            {
                try
                {
                    trainer.optimizer.ImportState(saved);
                }
                catch (ArgumentException e)
                {
                    throw new CheckpointException(directory, $"{TrainingCheckpoint.OptimizerFile}: {e.Message}", e);
                }
            }
            trainer.Step = state.Step;
            trainer.DataPosition = state.DataPosition;
            trainer.trainingSeconds = state.TrainingSeconds;
            trainer.LastEvaluation = state.LastEvaluation;
            foreach (var (key, value) in state.Metadata)
                trainer.Metadata[key] = value;
            return trainer;
        }
        catch
        {
            if (trainer is not null)
                trainer.Dispose();
            else
                model.Dispose();
            throw;
        }
    }

    /// <summary>The dropout stream's key for a run seed (unrelated to the initialisation stream).</summary>
    public static ulong DropoutSeed(ulong seed) => seed ^ 0xD50D_0000_0000_D50DUL;

    /// <summary>One optimizer step over the next <see cref="TrainingOptions.GradientAccumulation"/>
    /// micro-batches.</summary>
    /// <exception cref="TrainingException">The loss is NaN or infinite.</exception>
    public StepResult TrainStep()
    {
        var clock = Stopwatch.StartNew();
        var lr = optimizer.LearningRate;
        double lossSum = 0, auxiliarySum = 0;
        long tokens = 0;
        var inWarmup = DataPosition < data.WarmupBatches;
        Model.Train();
        using (var scope = DisposeScope.Enter())
        {
            for (var micro = 0; micro < Options.GradientAccumulation; micro++)
            {
                var batch = data.Batch(DataPosition);
                using var t = batch.ToTensors(Model.Parameters.Device);
                using var output = Model.Forward(t.InputIds, batch.AttentionMask, t.DecoderInputIds, t.Labels,
                    Options.ZLoss);
                var loss = output.Loss!.Item();
                if (!double.IsFinite(loss))
                    throw new TrainingException($"the loss is {loss} at step {Step + 1}; lower the learning rate");
                output.Loss.Backward();
                accumulator.MicroStep();
                DataPosition++;
                lossSum += loss;
                auxiliarySum += output.AuxiliaryLoss?.Item() ?? 0;
                tokens += batch.TargetTokenCount + CountTrue(batch.AttentionMask);
            }
        }
        Step++;
        var seconds = clock.Elapsed.TotalSeconds;
        trainingSeconds += seconds;
        return new StepResult(Step, lossSum / Options.GradientAccumulation, lr, accumulator.LastGradNorm, tokens,
            seconds, inWarmup, auxiliarySum / Options.GradientAccumulation);
    }

    /// <summary>Evaluates the first <see cref="TrainingOptions.EvalSize"/> held-out examples (null when
    /// cancelled, or when there are none).</summary>
    public EvaluationResult? Evaluate(CancellationToken cancellationToken = default)
    {
        var count = Math.Min(Options.EvalSize, HeldOut.Count);
        if (count == 0)
            return null;
        var examples = count == HeldOut.Count ? HeldOut : [.. HeldOut.Take(count)];
        var result = Evaluator.Evaluate(Model, examples, Options.EvalBatchSize ?? Options.BatchSize,
            Data?.Padding, cancellationToken);
        if (result is not null)
            LastEvaluation = result;
        return result;
    }

    /// <summary>Saves a training checkpoint of the current state into <paramref name="directory"/>
    /// (atomically).</summary>
    public void SaveCheckpoint(string directory)
    {
        var state = new TrainerState
        {
            Step = Step,
            Options = Options,
            Data = Data,
            DataPosition = DataPosition,
            DropoutSeed = dropout.Seed,
            DropoutOffset = dropout.Offset,
            TrainingSeconds = trainingSeconds,
            LastEvaluation = LastEvaluation,
            Metadata = new Dictionary<string, string>(Metadata, StringComparer.Ordinal),
        };
        TrainingCheckpoint.Save(directory, Model, optimizer, state);
    }

    /// <summary>
    /// Trains until <see cref="TrainingOptions.MaxSteps"/> (or <paramref name="stopAtStep"/>), evaluating and saving
    /// at the configured intervals, then evaluates the held-out set and saves a final checkpoint to
    /// <paramref name="checkpointDirectory"/> (when given). Cancellation finishes the current step, saves, and returns
    /// with <see cref="TrainingResult.Cancelled"/> set; it never throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public TrainingResult Run(string? checkpointDirectory = null, IProgress<TrainingProgress>? progress = null,
        long? stopAtStep = null, CancellationToken cancellationToken = default)
    {
        var loop = new TrainingLoop(this, checkpointDirectory, progress, cancellationToken);
        return loop.Run(Math.Min(Options.MaxSteps, stopAtStep ?? long.MaxValue));
    }

    /// <summary>Changes the options that do not alter the trajectory (max steps, intervals, eval size).</summary>
    /// <exception cref="ArgumentException">The change would alter the trajectory.</exception>
    public void Reconfigure(Func<TrainingOptions, TrainingOptions> adjust)
    {
        ArgumentNullException.ThrowIfNull(adjust);
        Options = Adjust(Options, adjust);
    }

    /// <summary>Releases the optimizer state and the model.</summary>
    public void Dispose()
    {
        optimizer.Dispose();
        Model.Dispose();
    }

    private static int CountTrue(bool[] values)
    {
        var count = 0;
        foreach (var v in values)
        {
            if (v)
                count++;
        }
        return count;
    }
}
