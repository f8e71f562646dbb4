// Runs the colt5 command line in-process with captured output, and writes the small files CLI tests need: a micro
// model config.json and seq2seq JSONL data.
using System;
using System.IO;
using System.Linq;
using System.Threading;
using CoLT5.Cli;
using CoLT5.Model.Configuration;
using CoLT5.Tests.Training;
using Xunit;

namespace CoLT5.Tests.Cli;

public sealed record CliRun(int ExitCode, string Out, string Error)
{
    public string[] OutLines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r'))
        .ToArray();

    /// <summary>Asserts a failed run that printed exactly one "colt5: error:" line containing every fragment.</summary>
    public void AssertOneLineError(int exitCode, params string[] fragments)
    {
        Assert.True(ExitCode == exitCode, $"exit code {ExitCode}, expected {exitCode}; stderr: {Error}; stdout: {Out}");
        var lines = Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one error line, got:\n{Error}");
        Assert.StartsWith("colt5: error: ", lines[0], StringComparison.Ordinal);
        foreach (var fragment in fragments)
            Assert.Contains(fragment, lines[0], StringComparison.Ordinal);
    }

    public void AssertOk()
    {
        Assert.True(ExitCode == 0, $"exit code {ExitCode}; stderr: {Error}; stdout: {Out}");
        Assert.Equal("", Error);
    }
}

public static class CliTestKit
{
    /// <summary>Runs colt5 with <paramref name="args"/> in-process (stdin from <paramref name="stdin"/>).</summary>
    public static CliRun Run(string[] args, string stdin = "", CancellationToken? cancellation = null)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var input = new StringReader(stdin);
        var context = new CliContext(output, error, input, Interactive: false,
            cancellation ?? TestContext.Current.CancellationToken);
        var code = ColtCli.Run(args, context);
        return new CliRun(code, output.ToString(), error.ToString());
    }

    public static CliRun Run(params string[] args) => Run(args, "");

    /// <summary>Writes the micro model's config.json (byte vocabulary) and returns its path.</summary>
    public static string MicroConfig(TempDirectory dir, string encoder = "colt5")
    {
        var path = dir.Combine($"micro-{encoder}.json");
        File.WriteAllText(path, ConfigFile.ToJson(TrainingTestKit.MicroConfig(encoder)));
        return path;
    }

    /// <summary>A JSONL file of <paramref name="count"/> copy-task records ("copy: word" → "word").</summary>
    public static string CopyData(TempDirectory dir, int count = 12, string name = "copy.jsonl")
    {
        var path = dir.Combine(name);
        File.WriteAllLines(path, Enumerable.Range(0, count).Select(i =>
            $"{{\"input\": \"copy: w{i % 5}x{i}\", \"target\": \"w{i % 5}x{i}\"}}"));
        return path;
    }

    /// <summary>Trains the micro model on <see cref="CopyData"/> for a few steps into <c>dir/run</c>.</summary>
    public static string TrainedCheckpoint(TempDirectory dir, long steps = 3)
    {
        var run = dir.Combine("run");
        Run("train", "--data", CopyData(dir), "--config", MicroConfig(dir), "--steps", steps.ToString(),
            "--batch-size", "4", "--eval-size", "2", "--out", run).AssertOk();
        return run;
    }
}
