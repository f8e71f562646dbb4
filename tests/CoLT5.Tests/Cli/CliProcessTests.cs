// The built colt5 executable as a separate process: exit codes, a one-line stderr on bad input, stdout for results,
// --threads applied in its own process (in-process tests leave the global thread count alone), and signals.
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
        using var process = Process.Start(StartInfo(workingDirectory, args))!;
        process.StandardInput.Close();
        var ct = TestContext.Current.CancellationToken;
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        return new CliRun(process.ExitCode, await output, await error);
    }

    private static ProcessStartInfo StartInfo(string workingDirectory, string[] args)
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
        return start;
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

    [Fact]
    public async Task SigtermStopsGenerateAndASecondSignalEndsTheProcess()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "uses mkfifo and kill");
        using var dir = new TempDirectory("colt5-process");
        var checkpoint = CliTestKit.TrainedCheckpoint(dir, steps: 1);
        const string notice = "colt5: SIGTERM received, stopping after the current batch (a second SIGTERM aborts)…";

        // one SIGTERM while generate waits for its input: it reads the input, then stops before decoding
        await using (var run = await GenerateFromFifo(dir, checkpoint))
        {
            Signal(run.Process, "TERM");
            await run.NextErrorLine(notice);
            run.Input.Write("copy: w1x1\n"u8);
            await run.Input.DisposeAsync();
            var result = await run.Finish();
            Assert.Equal(130, result.ExitCode);
            Assert.Equal("", result.Out);
            Assert.Equal("colt5: generation cancelled; outputs written for the first 0 of 1 inputs",
                result.Error.TrimEnd());
        }

        // a second SIGTERM ends the process at once, although its input is still open
        await using (var run = await GenerateFromFifo(dir, checkpoint))
        {
            Signal(run.Process, "TERM");
            await run.NextErrorLine(notice);       // the kernel merges a signal sent while one is still pending
            Signal(run.Process, "TERM");
            var result = await run.Finish(TimeSpan.FromSeconds(30));
            Assert.Equal(128 + 15, result.ExitCode);                           // killed by SIGTERM
        }
    }

    // `colt5 generate --input FIFO`, returned once the process has opened the FIFO (so its signal handlers are set).
    private static async Task<FifoRun> GenerateFromFifo(TempDirectory dir, string checkpoint)
    {
        var ct = TestContext.Current.CancellationToken;
        var fifo = dir.Combine($"input-{Guid.NewGuid():N}");
        using (var mkfifo = Process.Start("mkfifo", [fifo]))
        {
            await mkfifo.WaitForExitAsync(ct);
            Assert.Equal(0, mkfifo.ExitCode);
        }
        var process = Process.Start(StartInfo(dir.Path, ["generate", "--checkpoint", checkpoint, "--input", fifo,
            "--max-new-tokens", "2"]))!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync(ct);
        try
        {
            // opening the write end blocks until the reader has opened the other end
            var input = await Task.Run(() => new FileStream(fifo, FileMode.Open, FileAccess.Write), ct)
                .WaitAsync(TimeSpan.FromSeconds(60), ct);
            return new FifoRun(process, input, output);
        }
        catch
        {
            process.Kill();
            process.Dispose();
            throw;
        }
    }

    private static void Signal(Process process, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString()]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    private sealed record FifoRun(Process Process, FileStream Input, Task<string> Output) : IAsyncDisposable
    {
        /// <summary>Reads standard error up to the next line, which must be <paramref name="expected"/>.</summary>
        public async Task NextErrorLine(string expected)
        {
            var ct = TestContext.Current.CancellationToken;
            var line = await Process.StandardError.ReadLineAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), ct);
            Assert.Equal(expected, line);
        }

        public async Task<CliRun> Finish(TimeSpan? timeout = null)
        {
            var ct = TestContext.Current.CancellationToken;
            var error = Process.StandardError.ReadToEndAsync(ct);
            await Process.WaitForExitAsync(ct).WaitAsync(timeout ?? TimeSpan.FromSeconds(120), ct);
            return new CliRun(Process.ExitCode, await Output, await error);
        }

        public async ValueTask DisposeAsync()
        {
            if (!Process.HasExited)
                Process.Kill();
            Process.Dispose();
            await Input.DisposeAsync();
        }
    }
}
