// `colt5 eval`: teacher-forced loss and greedy exact-match accuracy of a checkpoint on a seq2seq JSONL file.
using System.CommandLine;
using System.IO;
using CoLT5.Model.Checkpoints;
using CoLT5.Model.Training;
using CoLT5.Tensors;

namespace CoLT5.Cli.Commands;

/// <summary>Builds and runs <c>colt5 eval</c>.</summary>
internal static class EvalCommand
{
    public static Command Create(CliContext context)
    {
        var checkpoint = CliOptions.Text("--checkpoint", "Checkpoint directory (config.json + model.safetensors)",
            "DIR");
        checkpoint.Required = true;
        var data = CliOptions.Text("--data", "Seq2seq JSONL file ({\"input\":…,\"target\":…} per line)", "FILE");
        data.Required = true;
        var batch = CliOptions.Int("--batch-size", "Examples per batch (default 8)", 1);
        var maxInput = CliOptions.Int("--max-input-length", "Longest input in tokens with EOS (default: the " +
            "checkpoint's training limit, else 4096)", 2);
        var maxTarget = CliOptions.Int("--max-target-length", "Longest target in tokens with EOS (default: the " +
            "checkpoint's training limit, else 512)", 2);
        var truncate = CliOptions.Flag("--truncate", "Cut over-long examples instead of refusing them");
        var device = CliOptions.Device();
        var command = new Command("eval", "Loss and exact-match accuracy of a checkpoint on a JSONL file.")
        {
            checkpoint, data, batch, maxInput, maxTarget, truncate, device,
        };
        command.SetAction(result =>
        {
            CliOptions.ApplyThreads(result.GetValue<int?>("--threads"));
            var directory = result.GetValue(checkpoint)!;
            var path = FreshRun.RequireFile(result.GetValue(data)!, "--data");
            var resolved = CliOptions.ResolveDevice(result.GetValue(device));
            var (inputLimit, targetLimit) = InputLimits.For(directory, result.GetValue(maxInput),
                result.GetValue(maxTarget));
            var limits = new TrainingDataSpec
            {
                MaxInputLength = inputLimit,
                MaxTargetLength = targetLimit,
                Truncate = result.GetValue(truncate),
                // the folder's spiece.model when it has one (a Hugging Face T5 folder), else the byte tokenizer
                SentencePieceModel = CheckpointTokenizer.HasSentencePiece(directory)
                    ? Path.Combine(directory, Checkpoint.SentencePieceFile)
                    : null,
            };
            var examples = TrainingData.ReadJsonl(path, limits);
            using var model = Checkpoint.Load(directory, DType.Float32, resolved);
            CheckpointTokenizer.RequireVocabulary(model.Config, TrainingData.TokenizerFor(limits), directory);
            var evaluation = Evaluator.Evaluate(model, examples, result.GetValue(batch) ?? 8, limits.Padding,
                context.CancellationToken);
            if (evaluation is null)
            {
                context.Error.WriteLine("colt5: evaluation cancelled");
                return ExitCodes.Cancelled;
            }
            context.Out.WriteLine($"examples: {evaluation.Examples}");
            context.Out.WriteLine($"loss: {evaluation.Loss:F4}");
            context.Out.WriteLine($"exact match: {evaluation.Correct}/{evaluation.Examples}");
            context.Out.WriteLine($"accuracy: {evaluation.Accuracy:F3}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
