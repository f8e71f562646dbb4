// The colt5 command tree and its error policy: parse errors and bad input become one line on stderr with a non-zero
// exit code (2 usage, 1 input, 70 internal); commands return 0, or 130 when cancelled after saving.
using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Security;
using System.Text.RegularExpressions;
using CoLT5.Cli.Commands;
using CoLT5.Model.Checkpoints;
using CoLT5.Model.Configuration;
using CoLT5.Model.Data;
using CoLT5.Model.Tokenization.SentencePiece;
using CoLT5.Model.Training;
using CoLT5.Tensors.Serialization;

namespace CoLT5.Cli;

/// <summary>The <c>colt5</c> command line, callable in-process.</summary>
public static partial class ColtCli
{
    /// <summary>Runs one command line and returns the process exit code (see <see cref="ExitCodes"/>).</summary>
    public static int Run(string[] args, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(context);
        var root = BuildCommand(context);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            var command = parsed.CommandResult.Command;
            var name = command == root ? "colt5" : "colt5 " + command.Name;
            WriteError(context, $"{OneLine(parsed.Errors[0].Message)} (see '{name} --help')");
            return ExitCodes.Usage;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration
            {
                Output = context.Out,
                Error = context.Error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,   // Ctrl-C is the caller's: it cancels context.CancellationToken
            });
        }
        catch (Exception e) when (IsInputError(e))
        {
            WriteError(context, Describe(e));
            return ExitCodes.Error;
        }
#pragma warning disable CA1031 // the CLI's last line of defence: one line and a distinct exit code, never a trace
        catch (Exception e)
#pragma warning restore CA1031
        {
            WriteError(context, $"internal error: {e.GetType().Name}: {OneLine(e.Message)}" +
                (Environment.GetEnvironmentVariable("COLT5_DEBUG") is "1" ? " " + OneLine(e.StackTrace ?? "") :
                    " (set COLT5_DEBUG=1 for a stack trace)"));
            return ExitCodes.Internal;
        }
    }

    /// <summary>The root command with train, generate, eval, info, convert and routes.</summary>
    internal static RootCommand BuildCommand(CliContext context)
    {
        var root = new RootCommand("CoLT5.Native: train, evaluate and generate with CoLT5 / T5 / LongT5 models " +
            "on the CPU, in pure managed .NET.");
        root.Options.Add(CliOptions.Threads());
        root.Subcommands.Add(TrainCommand.Create(context));
        root.Subcommands.Add(GenerateCommand.Create(context));
        root.Subcommands.Add(EvalCommand.Create(context));
        root.Subcommands.Add(InfoCommand.Create(context));
        root.Subcommands.Add(ConvertCommand.Create(context));
        root.Subcommands.Add(RoutesCommand.Create(context));
        return root;
    }

    /// <summary>Writes "colt5: error: message" as one line to the error stream.</summary>
    internal static void WriteError(CliContext context, string message) =>
        context.Error.WriteLine("colt5: error: " + OneLine(message));

    /// <summary>Collapses line breaks and runs of white space so a message stays on one line.</summary>
    internal static string OneLine(string text) => Whitespace().Replace(text, " ").Trim();

    private static bool IsInputError(Exception e) => e is CliException or ConfigException or CheckpointException
        or DataFormatException or SafetensorsException or SentencePieceFormatException or FileNotFoundException or DirectoryNotFoundException
        or IOException or UnauthorizedAccessException or SecurityException or TrainingException
        or ArgumentException;

    private static string Describe(Exception e) => e switch
    {
        FileNotFoundException f when f.FileName is { } file && !f.Message.Contains(file, StringComparison.Ordinal) =>
            $"{file}: file not found",
        ArgumentException a when a.ParamName is not null =>
            a.Message.Split(" (Parameter '", 2).First(),
        _ => e.Message,
    };

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
