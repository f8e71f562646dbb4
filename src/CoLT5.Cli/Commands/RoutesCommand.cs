// `colt5 routes`: runs a CoLT5 checkpoint's encoder once over a text file with a routing observer attached and writes
// a self-contained HTML page of what the FF, query and key/value routers of every layer chose (Output/RoutesPage).
using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Text;
using CoLT5.Cli.Output;
using CoLT5.Model.Analysis;
using CoLT5.Model.Checkpoints;
using CoLT5.Model.Configuration;
using CoLT5.Model.Tokenization;
using CoLT5.Model.Tokenization.SentencePiece;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;

namespace CoLT5.Cli.Commands;

/// <summary>Builds and runs <c>colt5 routes</c>.</summary>
internal static class RoutesCommand
{
    /// <summary>Tokens each layer's detailed view shows by default.</summary>
    public const int DefaultDetailTokens = 2048;

    /// <summary>The largest input file read (the same bound as one JSONL line).</summary>
    public const long MaxInputBytes = 16L << 20;

    public static Command Create(CliContext context)
    {
        var checkpoint = CliOptions.Text("--checkpoint", "Checkpoint directory of a CoLT5 model", "DIR");
        checkpoint.Required = true;
        var input = CliOptions.Text("--input", "UTF-8 text file, or - for standard input (then --out is needed); " +
            "the whole file is one input", "FILE|-");
        input.Required = true;
        var output = CliOptions.Text("--out", "The HTML page to write (default: next to the input, " +
            "NAME.routes.html)", "PAGE.html");
        var maxInput = CliOptions.Int("--max-input-length", "Longest input in tokens with EOS; a longer text is " +
            "cut (default: the checkpoint's training limit, else 4096)", 2);
        var detail = CliOptions.Int("--detail-tokens", "Tokens shown per layer in the detailed view (default " +
            $"{DefaultDetailTokens}); the summary covers all", 1);
        var device = CliOptions.Device();
        var command = new Command("routes", "Write an HTML page of which tokens each router of a CoLT5 encoder " +
            "sends to the heavy branches.")
        {
            checkpoint, input, output, maxInput, detail, device,
        };
        command.SetAction(result =>
        {
            CliOptions.ApplyThreads(result.GetValue<int?>("--threads"));
            return Execute(new RoutesArguments(result.GetValue(checkpoint)!, result.GetValue(input)!,
                result.GetValue(output), result.GetValue(maxInput), result.GetValue(detail) ?? DefaultDetailTokens,
                result.GetValue(device)), context);
        });
        return command;
    }

    private static int Execute(RoutesArguments a, CliContext context)
    {
        var device = CliOptions.ResolveDevice(a.Device);
        var (limit, _) = InputLimits.For(a.Checkpoint, a.MaxInputLength, null);   // also finishes a pending save
        RequireRouters(a.Checkpoint);
        var outPath = OutputPath(a);
        var (source, text) = ReadInput(a.Input, context);
        var tokenizer = CheckpointTokenizer.For(a.Checkpoint);
        var ids = tokenizer.Encode(text, appendEos: true);
        int? before = null;
        if (ids.Length > limit)
        {
            before = ids.Length;
            ids = [.. ids.Take(limit - 1), tokenizer.EosId];
        }
        if (context.CancellationToken.IsCancellationRequested)
            return Cancelled(context);

        using var model = Checkpoint.Load(a.Checkpoint, DType.Float32, device);
        CheckpointTokenizer.RequireVocabulary(model.Config, tokenizer, a.Checkpoint);
        if (model.Config.Encoder != EncoderType.CoLT5)
            throw NoRouters(a.Checkpoint, model.Config.Encoder);
        model.Eval();
        var trace = new RoutingTrace();
        using (var scope = DisposeScope.Enter())
        using (Tensor.NoGrad())
        {
            using var inputIds = Tensor.FromArray<int>(ids, new Shape(1, ids.Length), device);
            using var encoded = model.Encode(inputIds, Enumerable.Repeat(true, ids.Length).ToArray(), trace);
        }
        if (context.CancellationToken.IsCancellationRequested)
            return Cancelled(context);

        var page = RoutesPage.Render(new RoutesPageInput(a.Checkpoint, source, model.Config, Describe(tokenizer),
            TokenSurfaces.Describe(tokenizer, ids), trace, before, limit, a.DetailTokens));
        AtomicFile.WriteAllText(outPath, page);
        if (before is { } total)
            context.Out.WriteLine($"note: the input is {total} tokens with EOS; the page covers the first " +
                $"{limit - 1} and EOS (--max-input-length {limit})");
        context.Out.WriteLine($"wrote {outPath} ({ids.Length} tokens, {trace.Layers} layers, " +
            $"{Encoding.UTF8.GetByteCount(page) / 1024.0:F0} KiB)");
        return ExitCodes.Ok;
    }

    // Refuses a checkpoint whose config names another encoder before its weights are read. A missing directory or
    // config.json is left to Checkpoint.Load, which reports it.
    private static void RequireRouters(string checkpoint)
    {
        var config = Path.Combine(checkpoint, Checkpoint.ConfigFileName);
        if (Directory.Exists(checkpoint) && File.Exists(config) &&
            ConfigFile.Read(config) is { Encoder: not EncoderType.CoLT5 } other)
            throw NoRouters(checkpoint, other.Encoder);
    }

    private static CliException NoRouters(string checkpoint, EncoderType encoder) =>
        new($"checkpoint {checkpoint}: the checkpoint's encoder has no routers (it is {encoder.CliName()}; " +
            "routes needs a colt5 encoder)");

    /// <summary>--out, or NAME.routes.html next to the input; the directory must exist and the path not be one.</summary>
    internal static string OutputPath(RoutesArguments a)
    {
        if (a.Out is null && a.Input == "-")
            throw new CliException("--input - needs --out (there is no input file to write the page next to)");
        var path = a.Out ?? Path.ChangeExtension(a.Input, ".routes.html");
        if (Directory.Exists(path))
            throw new CliException($"--out {path} is a directory, not a file");
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null && !Directory.Exists(directory))
            throw new CliException($"--out {path}: the directory {directory} does not exist");
        return path;
    }

    // The whole input as text: strict UTF-8 (a byte-order mark dropped), at most MaxInputBytes, not blank.
    private static (string Source, string Text) ReadInput(string input, CliContext context)
    {
        string source, text;
        if (input == "-")
        {
            source = "<stdin>";
            text = context.In.ReadToEnd();
        }
        else
        {
            source = FreshRun.RequireFile(input, "--input");
            var length = new FileInfo(input).Length;
            if (length > MaxInputBytes)
                throw new CliException($"{input}: the file is {length} bytes; routes reads at most {MaxInputBytes} " +
                    "(16 MiB)");
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(input);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"{input}: cannot read the file: {e.Message}", e);
            }
            text = DecodeUtf8(bytes, input);
        }
        if (text.Length > 0 && text[0] == '\uFEFF')
            text = text[1..];
        if (string.IsNullOrWhiteSpace(text))
            throw new CliException($"{source}: the input is empty (nothing but white space)");
        return (source, text);
    }

    private static string DecodeUtf8(byte[] bytes, string source)
    {
        try
        {
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new CliException($"{source}: invalid UTF-8 at byte {e.Index}", e);
        }
    }

    private static string Describe(ITokenizer tokenizer) => tokenizer switch
    {
        SentencePieceTokenizer sp => $"{CheckpointTokenizer.SentencePieceFile} (SentencePiece, " +
            $"{sp.Processor.PieceCount} pieces + {sp.SentinelCount} sentinels)",
        _ => $"bytes (ByT5 layout: one token per UTF-8 byte, {tokenizer.SentinelCount} sentinels)",
    };

    private static int Cancelled(CliContext context)
    {
        context.Error.WriteLine("colt5: routes cancelled; no page written");
        return ExitCodes.Cancelled;
    }
}

/// <summary>The parsed options of <c>colt5 routes</c>.</summary>
internal sealed record RoutesArguments(string Checkpoint, string Input, string? Out, int? MaxInputLength,
    int DetailTokens, string? Device);
