// `colt5 train`: the options, as the issue fixes them plus extras, gathered into TrainArguments for TrainRunner.
using System.CommandLine;

namespace CoLT5.Cli.Commands;

/// <summary>Everything given to <c>colt5 train</c>; null means "not given" (the defaults or the checkpoint's
/// values apply).</summary>
internal sealed record TrainArguments
{
    public string? Data { get; init; }
    public string? EvalData { get; init; }
    public string? Encoder { get; init; }
    public string? Preset { get; init; }
    public string? Config { get; init; }
    public long? Steps { get; init; }
    public string? Out { get; init; }
    public string? Resume { get; init; }
    public string? Uptrain { get; init; }
    public double? UptrainFraction { get; init; }
    public bool Overwrite { get; init; }
    public ulong? Seed { get; init; }
    public int? BatchSize { get; init; }
    public int? GradAccum { get; init; }
    public double? LearningRate { get; init; }
    public string? Optimizer { get; init; }
    public string? Schedule { get; init; }
    public long? Warmup { get; init; }
    public double? ClipNorm { get; init; }
    public double? Dropout { get; init; }
    public double? ZLoss { get; init; }
    public double? WeightDecay { get; init; }
    public long? EvalEvery { get; init; }
    public int? EvalSize { get; init; }
    public long? CheckpointEvery { get; init; }
    public long? LogEvery { get; init; }
    public int? MaxInputLength { get; init; }
    public int? MaxTargetLength { get; init; }
    public bool Truncate { get; init; }
    public int? DocLength { get; init; }
    public string? Device { get; init; }
    public int? Threads { get; init; }
    public bool Plain { get; init; }
}

/// <summary>Builds the <c>train</c> command.</summary>
internal static class TrainCommand
{
    public static Command Create(CliContext context)
    {
        var data = CliOptions.Text("--data", "Train on this seq2seq JSONL file ({\"input\":…,\"target\":…} per " +
            "line, byte tokenizer) instead of the built-in long-range retrieval task", "FILE");
        var evalData = CliOptions.Text("--eval-data", "Held-out JSONL for --data (default: the last records of " +
            "--data, up to --eval-size and at most a tenth of the file)", "FILE");
        var encoder = CliOptions.Text("--encoder", "Encoder: colt5 (default), t5, longt5-local, longt5-tglobal, " +
            "fnet or sparse-mixer", "NAME");
        var preset = CliOptions.Text("--preset", "Model size: tiny (default), small, base, large or xl", "NAME");
        var config = CliOptions.Text("--config", "Model config.json to use instead of --preset", "FILE");
        var steps = CliOptions.Long("--steps", "Optimizer steps in total (a resumed run trains up to this many)");
        var output = CliOptions.Text("--out", "Checkpoint directory (default runs/<encoder>-<UTC time>; with " +
            "--resume, the resumed directory)", "DIR");
        var resume = CliOptions.Text("--resume", "Continue the run saved in this checkpoint directory, exactly",
            "DIR");
        var overwrite = CliOptions.Flag("--overwrite", "Allow --out to be an existing non-empty directory");
        var seed = CliOptions.Seed();
        var batch = CliOptions.Int("--batch-size", "Examples per micro-batch", 1);
        var accumulate = CliOptions.Int("--grad-accum", "Micro-batches per optimizer step", 1);
        var lr = CliOptions.Number("--lr", "Peak learning rate");
        var optimizer = CliOptions.Text("--optimizer", "adafactor or adamw", "NAME");
        var schedule = CliOptions.Text("--schedule", "constant, linear, rsqrt or cosine", "NAME");
        var warmup = CliOptions.Long("--warmup", "Linear warm-up steps (rsqrt: the constant plateau)");
        var clip = CliOptions.Number("--clip-norm", "Global gradient-norm clipping threshold (0: off)");
        var dropout = CliOptions.Number("--dropout", "Dropout rate (sets the config's dropout_rate)");
        var zLoss = CliOptions.Number("--z-loss", "z-loss coefficient (e.g. 1e-4)");
        var weightDecay = CliOptions.Number("--weight-decay", "AdamW weight decay");
        var evalEvery = CliOptions.Long("--eval-every", "Evaluate on held-out examples every N steps (0: at the end)");
        var evalSize = CliOptions.Int("--eval-size", "Held-out examples per evaluation");
        var checkpointEvery = CliOptions.Long("--checkpoint-every", "Save a checkpoint every N steps (0: at the end)");
        var logEvery = CliOptions.Long("--log-every", "Print a progress line every N steps", 1);
        var maxInput = CliOptions.Int("--max-input-length", "Longest input in tokens, EOS included (longer " +
            "inputs are an error unless --truncate)", 2);
        var maxTarget = CliOptions.Int("--max-target-length", "Longest target in tokens, EOS included", 2);
        var truncate = CliOptions.Flag("--truncate", "Cut over-long examples instead of refusing them");
        var docLength = CliOptions.Int("--doc-length", "Built-in task: longest document in tokens (shortest is " +
            "half, the answer at least a quarter before the question)", 80);
        var device = CliOptions.Device();
        var plain = CliOptions.Flag("--plain", "Plain progress lines even on a terminal");
        var uptrain = CliOptions.Text("--uptrain", "Start from this converted checkpoint's weights and configuration " +
            "(colt5 convert) and train for --uptrain-fraction of --steps", "DIR");
        var uptrainFraction = CliOptions.Number("--uptrain-fraction",
            "With --uptrain: the fraction of --steps to train (default 0.05, the GQA and CoLT5 papers' uptraining)");

        var command = new Command("train", "Train a model. With no options: the tiny CoLT5 on the built-in " +
            "long-range retrieval task, ending with the held-out exact-match accuracy and the time per step.")
        {
            data, evalData, encoder, preset, config, steps, output, resume, overwrite, seed, batch, accumulate, lr,
            optimizer, schedule, warmup, clip, dropout, zLoss, weightDecay, evalEvery, evalSize, checkpointEvery,
            logEvery, maxInput, maxTarget, truncate, docLength, device, plain, uptrain, uptrainFraction,
        };
        command.SetAction(result => TrainRunner.Execute(new TrainArguments
        {
            Data = result.GetValue(data),
            EvalData = result.GetValue(evalData),
            Encoder = result.GetValue(encoder),
            Preset = result.GetValue(preset),
            Config = result.GetValue(config),
            Steps = result.GetValue(steps),
            Out = result.GetValue(output),
            Resume = result.GetValue(resume),
            Uptrain = result.GetValue(uptrain),
            UptrainFraction = result.GetValue(uptrainFraction),
            Overwrite = result.GetValue(overwrite),
            Seed = result.GetValue(seed),
            BatchSize = result.GetValue(batch),
            GradAccum = result.GetValue(accumulate),
            LearningRate = result.GetValue(lr),
            Optimizer = result.GetValue(optimizer),
            Schedule = result.GetValue(schedule),
            Warmup = result.GetValue(warmup),
            ClipNorm = result.GetValue(clip),
            Dropout = result.GetValue(dropout),
            ZLoss = result.GetValue(zLoss),
            WeightDecay = result.GetValue(weightDecay),
            EvalEvery = result.GetValue(evalEvery),
            EvalSize = result.GetValue(evalSize),
            CheckpointEvery = result.GetValue(checkpointEvery),
            LogEvery = result.GetValue(logEvery),
            MaxInputLength = result.GetValue(maxInput),
            MaxTargetLength = result.GetValue(maxTarget),
            Truncate = result.GetValue(truncate),
            DocLength = result.GetValue(docLength),
            Device = result.GetValue(device),
            Threads = result.GetValue<int?>("--threads"),
            Plain = result.GetValue(plain),
        }, context));
        return command;
    }
}
