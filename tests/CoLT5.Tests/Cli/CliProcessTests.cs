// The built colt5 executable as a separate process: exit codes, a one-line stderr on bad input, stdout for results,
// and --threads applied in its own process (in-process tests leave the global thread count alone).
using System;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;
using CoLT5.Tests.Training;
using Xunit;

namespace CoLT5.Tests.Cli;

public sealed class CliProcessTests
{
    /// <summary>Runs the colt5 apphost next to the test assembly (or <c>dotnet colt5.dll</c>).</summary>
    private static async Task<CliRun> RunProcess(string workingDirectory, params string[] args)
    {
        var baseDir = AppContext.BaseDirectory;
        var apphost = Path.Combine(baseDir, OperatingSystem.IsWindows() ? "colt5.exe" : "colt5");
        var start = File.Exists(apphost)
            ? new ProcessStartInfo(apphost)
            : new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                ArgumentList = { Path.Combine(baseDir, "colt5.dll") },
            };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.WorkingDirectory = workingDirectory;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = true;
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var ct = TestContext.Current.CancellationToken;
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        return new CliRun(process.ExitCode, await output, await error);
    }

    [Fact]
    public async Task ExitCodesAndOneLineErrors()
    {
        using var dir = new TempDirectory("colt5-process");
        var info = await RunProcess(dir.Path, "info", "--preset", "xl", "--threads", "1");
        info.AssertOk();
        Assert.Contains("parameters: 5297.3M", info.Out, StringComparison.Ordinal);

        (await RunProcess(dir.Path, "info", "--preset", "nope")).AssertOneLineError(1, "unknown preset 'nope'");
        (await RunProcess(dir.Path, "train", "--steps", "x")).AssertOneLineError(2, "--steps");
        (await RunProcess(dir.Path, "train", "--data", "missing.jsonl")).AssertOneLineError(1, "missing.jsonl");
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "runs")));

        File.WriteAllText(Path.Combine(dir.Path, "in.txt"), "hello\n");
        (await RunProcess(dir.Path, "generate", "--checkpoint", "nowhere", "--input", "in.txt"))
            .AssertOneLineError(1, "nowhere", "does not exist");
    }

    [Fact]
    public async Task TrainsWithThreadsAndGeneratesFromTheCheckpoint()
    {
        using var dir = new TempDirectory("colt5-process");
        var train = await RunProcess(dir.Path, "train", "--data", CliTestKit.CopyData(dir), "--config",
            CliTestKit.MicroConfig(dir), "--steps", "2", "--batch-size", "4", "--threads", "1", "--out", "run");
        train.AssertOk();
        Assert.Contains(train.OutLines, l => l.Contains(", 1 threads", StringComparison.Ordinal));
        Assert.StartsWith("accuracy: ", train.OutLines[^1], StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(dir.Path, "in.txt"), "copy: w1x1\ncopy: w2x2\n");
        var generate = await RunProcess(dir.Path, "generate", "--checkpoint", "run", "--input", "in.txt",
            "--max-new-tokens", "4");
        generate.AssertOk();
        Assert.Equal(2, generate.Out.Split('\n').Length - 1);
    }
}
