// A new `colt5 train` run: the model configuration (preset or config.json, with the encoder switch), training
// options (built-in defaults or the library's, plus flags), the output directory and the data — all validated
// before anything is written.
using System;
using System.Collections.Generic;
using System.IO;
using CoLT5.Model.Checkpoints;
using CoLT5.Model.Configuration;
using CoLT5.Model.Training;

namespace CoLT5.Cli.Commands;

/// <summary>A validated fresh run.</summary>
internal sealed record FreshRun(ModelConfig Config, TrainingOptions Options, TrainingDataSpec Data, string OutDir,
    Dictionary<string, string> Metadata)
{
    public static FreshRun Prepare(TrainArguments a)
    {
        var builtIn = a.Data is null;
        var defaults = BuiltInTask.Defaults;
        if (a.Config is not null && a.Preset is not null)
            throw new CliException("give either --preset or --config, not both");
        if (!builtIn && a.DocLength is not null)
            throw new CliException("--doc-length applies to the built-in task only, not to --data");
        if (builtIn && a.EvalData is not null)
            throw new CliException("--eval-data needs --data (the built-in task has its own held-out split)");

        if (a.UptrainFraction is not null && a.Uptrain is null)
            throw new CliException("--uptrain-fraction needs --uptrain DIR");
        string? preset;
        ModelConfig config;
        if (a.Uptrain is { } start)
        {
            foreach (var (option, given) in new[] { ("--preset", a.Preset), ("--config", a.Config), ("--encoder", a.Encoder) })
            {
                if (given is not null)
                    throw new CliException($"{option} cannot be used with --uptrain: the model is that of {start}");
            }
            preset = null;
            config = ConfigFile.Read(RequireFile(Path.Combine(start, Checkpoint.ConfigFileName), "--uptrain"));
            var fraction = a.UptrainFraction ?? DefaultUptrainFraction;
            if (!(fraction > 0 && fraction <= 1))
                throw new CliException($"--uptrain-fraction must be in (0, 1], got {fraction}");
            var total = a.Steps ?? (builtIn ? defaults.Training() : new TrainingOptions()).MaxSteps;
            a = a with { Steps = Math.Max(1, (long)Math.Round(fraction * total)) };
        }
        else
        {
            preset = a.Config is null ? a.Preset ?? defaults.Preset : null;
            config = a.Config is { } configPath ? ConfigFile.Read(RequireFile(configPath, "--config"))
                : Presets.Get(preset!);
            var encoder = a.Encoder ?? (a.Config is null ? defaults.Encoder : null);
            if (encoder is not null)
                config = config.WithEncoder(encoder);
        }
        var encoderName = config.Encoder.CliName();

        var options = TrainOptionsBuilder.Apply(builtIn ? defaults.Training() : new TrainingOptions(), a,
            resumed: false).Validate();
        var outDir = a.Out ?? DefaultOutDirectory(encoderName);
        OutputDirectory.CheckWritable(outDir, a.Overwrite, "--out");

        // a converted Hugging Face folder brings its tokenizer: JSONL text goes through its spiece.model
        var spm = a.Uptrain is { } folder && CheckpointTokenizer.HasSentencePiece(folder)
            ? Path.GetFullPath(Path.Combine(folder, Checkpoint.SentencePieceFile))
            : null;
        if (spm is not null && builtIn)
            throw new CliException($"{a.Uptrain} has {Checkpoint.SentencePieceFile}: give --data JSONL (the built-in " +
                "task is byte-tokenized)");
        var data = builtIn ? BuiltInData(a, options, defaults) : FileData(a, options, spm);
        config = FitMixingLength(config, data,
            fixedByConfig: a.Uptrain is not null || (a.Config is not null && a.Encoder is null));
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["encoder"] = encoderName,
            ["preset"] = preset ?? "custom",
            ["data"] = builtIn ? "built-in retrieval task" : data.Path!,
        };
        if (a.Uptrain is { } from)
            metadata["uptrain"] = $"{from} for {a.Steps} steps";
        return new FreshRun(config, options, data, outDir, metadata);
    }

    /// <summary>The share of the original training budget an uptraining run takes by default (the GQA paper
    /// uptrains for 5% of pre-training; CoLT5 uptrains converted LongT5 models similarly).</summary>
    public const double DefaultUptrainFraction = 0.05;

    /// <summary>runs/&lt;encoder&gt;-&lt;UTC yyyyMMdd-HHmmss&gt;, with a numeric suffix if that exists.</summary>
    public static string DefaultOutDirectory(string encoder)
    {
        var stem = Path.Combine("runs", $"{encoder}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        var candidate = stem;
        for (var i = 2; Directory.Exists(candidate) || File.Exists(candidate); i++)
            candidate = $"{stem}-{i}";
        return candidate;
    }

    private static TrainingDataSpec BuiltInData(TrainArguments a, TrainingOptions options,
        BuiltInTaskSettings defaults)
    {
        var task = a.DocLength is { } length ? BuiltInTask.ScaledTask(length) : defaults.Task;
        var spec = TrainingDataSpec.ForRetrieval(options.Seed, task) with
        {
            RetrievalWarmup = BuiltInTask.WarmupFor(task, options.GradientAccumulation),
        };
        if (a.MaxInputLength is { } maxInput)
        {
            if (maxInput < task.MaxInputTokens)
                throw new CliException($"--max-input-length {maxInput} is shorter than the built-in task's " +
                    $"longest input ({task.MaxInputTokens} tokens); lower --doc-length instead");
            spec = spec with { MaxInputLength = maxInput };
        }
        if (a.MaxTargetLength is { } maxTarget)
            spec = spec with { MaxTargetLength = Math.Max(maxTarget, task.TargetTokens) };
        return spec;
    }

    private static TrainingDataSpec FileData(TrainArguments a, TrainingOptions options, string? sentencePiece)
    {
        var path = Path.GetFullPath(RequireFile(a.Data!, "--data"));
        var evalPath = a.EvalData is { } e ? Path.GetFullPath(RequireFile(e, "--eval-data")) : null;
        var spec = new TrainingDataSpec
        {
            Kind = TrainingDataKind.Jsonl,
            Path = path,
            EvalPath = evalPath,
            Seed = options.Seed,
            MaxInputLength = a.MaxInputLength ?? TrainRunner.DefaultMaxInputLength,
            MaxTargetLength = a.MaxTargetLength ?? TrainRunner.DefaultMaxTargetLength,
            Truncate = a.Truncate,
            SentencePieceModel = sentencePiece,
            SentencePieceSha256 = sentencePiece is null ? null : TrainingData.Sha256(sentencePiece),
        };
        // Read once here so that a bad line or an over-long example is reported before anything is written.
        var count = TrainingData.ReadJsonl(path, spec).Count;
        if (evalPath is not null)
            TrainingData.ReadJsonl(evalPath, spec);
        var heldOut = evalPath is not null || count < 2 ? 0 : Math.Min(options.EvalSize, Math.Max(1, count / 10));
        return spec with { HeldOut = heldOut, Sha256 = TrainingData.Sha256(path) };
    }

    /// <summary>
    /// Sparse Mixer's learned (N, N) sequence kernel must cover the longest padded input: a preset (or an encoder
    /// switch) gets mixing_length raised to it; a config file that fixes a shorter one is an error.
    /// </summary>
    private static ModelConfig FitMixingLength(ModelConfig config, TrainingDataSpec data, bool fixedByConfig)
    {
        if (config.Encoder != EncoderType.SparseMixer)
            return config;
        var multiple = Math.Max(1, data.InputMultiple);
        var longest = (data.MaxInputLength + multiple - 1) / multiple * multiple;
        if (config.MixingLength >= longest)
            return config;
        if (fixedByConfig)
            throw new CliException($"--config sets mixing_length {config.MixingLength}, but inputs of up to " +
                $"{data.MaxInputLength} tokens are padded to {longest}; raise mixing_length or lower " +
                "--max-input-length");
        return config with { MixingLength = longest };
    }

    /// <summary>The path when the file exists.</summary>
    /// <exception cref="CliException">It does not (or is a directory).</exception>
    public static string RequireFile(string path, string option)
    {
        if (Directory.Exists(path))
            throw new CliException($"{option} {path} is a directory, not a file");
        if (!File.Exists(path))
            throw new CliException($"{option} {path}: file not found");
        return path;
    }
}
