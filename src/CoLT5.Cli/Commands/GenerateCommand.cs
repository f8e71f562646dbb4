// `colt5 generate`: loads a checkpoint, reads inputs (one per non-blank line of a file or stdin), decodes each with
// greedy or beam search, and prints one output line per input, in order (backslashes and line breaks escaped).
// Cancellation stops it between batches with exit code 130, after the outputs of the finished batches only.
using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using CoLT5.Model.Checkpoints;
using CoLT5.Model.Data;
using CoLT5.Model.Generation;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;

namespace CoLT5.Cli.Commands;

/// <summary>Builds and runs <c>colt5 generate</c>.</summary>
internal static class GenerateCommand
{
    public static Command Create(CliContext context)
    {
        var checkpoint = CliOptions.Text("--checkpoint", "Checkpoint directory (config.json + model.safetensors)",
            "DIR");
        checkpoint.Required = true;
        var input = CliOptions.Text("--input", "Text file, or - for standard input; every non-blank line is one " +
            "input", "FILE|-");
        input.Required = true;
        var beams = CliOptions.Int("--num-beams", "Beams (1 = greedy, the default)", 1);
        var maxNew = CliOptions.Int("--max-new-tokens", "Tokens to generate at most (default 64)", 1);
        var lengthPenalty = CliOptions.Number("--length-penalty", "Beam score = log p / length^penalty (default 1)");
        var batch = CliOptions.Int("--batch-size", "Inputs decoded together (default 8)", 1);
        var maxInput = CliOptions.Int("--max-input-length", "Longest input in tokens with EOS (default: the " +
            "checkpoint's training limit, else 4096)", 2);
        var device = CliOptions.Device();
        var command = new Command("generate", "Generate from a checkpoint, one output line per input line.")
        {
            checkpoint, input, beams, maxNew, lengthPenalty, batch, maxInput, device,
        };
        command.SetAction(result =>
        {
            CliOptions.ApplyThreads(result.GetValue<int?>("--threads"));
            var options = new GenerationOptions
            {
                NumBeams = result.GetValue(beams) ?? 1,
                MaxNewTokens = result.GetValue(maxNew) ?? 64,
                LengthPenalty = result.GetValue(lengthPenalty) ?? 1.0,
            };
            return Execute(result.GetValue(checkpoint)!, result.GetValue(input)!, options,
                result.GetValue(batch) ?? 8, result.GetValue(maxInput), result.GetValue(device), context);
        });
        return command;
    }

    private static int Execute(string checkpoint, string input, GenerationOptions options, int batchSize,
        int? maxInput, string? deviceName, CliContext context)
    {
        var device = CliOptions.ResolveDevice(deviceName);
        var (limit, _) = InputLimits.For(checkpoint, maxInput, null);
        var source = input == "-" ? "<stdin>" : FreshRun.RequireFile(input, "--input");
        var text = input == "-" ? context.In.ReadToEnd() : File.ReadAllText(input);
        var tokenizer = CheckpointTokenizer.For(checkpoint);
        var inputs = new List<Seq2SeqExample>();
        var lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.TrimEnd('\r');
            if (string.IsNullOrWhiteSpace(line))
                continue;
            var ids = tokenizer.Encode(line, appendEos: true);
            if (ids.Length > limit)
                throw new CliException($"{source}:{lineNumber}: the input is {ids.Length} tokens with EOS, longer " +
                    $"than the limit of {limit} (--max-input-length)");
            inputs.Add(new Seq2SeqExample(ids, [tokenizer.EosId]));
        }
        if (inputs.Count == 0)
            throw new CliException($"{source}: the input is empty (no non-blank lines)");

        var cancellation = context.CancellationToken;
        if (cancellation.IsCancellationRequested)
            return Cancelled(context, 0, inputs.Count);
        using var model = Checkpoint.Load(checkpoint, DType.Float32, device);
        CheckpointTokenizer.RequireVocabulary(model.Config, tokenizer, checkpoint);
        for (var start = 0; start < inputs.Count; start += batchSize)
        {
            // Ctrl-C / SIGTERM stop between batches: every line written so far is a whole output
            if (cancellation.IsCancellationRequested)
                return Cancelled(context, start, inputs.Count);
            using var scope = DisposeScope.Enter();
            var members = inputs.GetRange(start, Math.Min(batchSize, inputs.Count - start));
            var batch = Seq2SeqBatch.Collate(members, model.Config.PadTokenId, new BatchPadding());
            using var t = batch.ToTensors(device);
            var generated = SequenceGenerator.Generate(model, t.InputIds, batch.AttentionMask, options);
            foreach (var sequence in generated.Sequences)
                context.Out.WriteLine(OneLine(tokenizer.Decode(sequence)));
            context.Out.Flush();
        }
        return ExitCodes.Ok;
    }

    // Standard output holds the outputs of the first `done` inputs, one whole line each, and nothing else.
    private static int Cancelled(CliContext context, int done, int total)
    {
        context.Out.Flush();
        context.Error.WriteLine($"colt5: generation cancelled; outputs written for the first {done} of {total} " +
            "inputs");
        return ExitCodes.Cancelled;
    }

    /// <summary>
    /// Keeps one output per line, reversibly: a backslash is written as \\ (first, so an escape never reads as an
    /// original backslash), then line feeds as \n and carriage returns as \r.
    /// </summary>
    internal static string OneLine(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\r", "\\r", StringComparison.Ordinal)
        .Replace("\n", "\\n", StringComparison.Ordinal);
}
