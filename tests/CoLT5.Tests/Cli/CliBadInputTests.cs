// Bad input gets one "colt5: error:" line naming the problem, a non-zero exit code, and nothing is written:
// missing files, invalid JSON (file:line), empty input, over-long text, a checkpoint from another config, unknown
// names, bad --resume and --out directories, unparsable options.
using System.IO;
using System.Linq;
using CoLT5.Model.Checkpoints;
using CoLT5.Model.Configuration;
using CoLT5.Model.Training;
using CoLT5.Tests.Training;
using Xunit;

namespace CoLT5.Tests.Cli;

public sealed class CliBadInputTests
{
    private static CliRun Train(TempDirectory dir, params string[] extra) =>
        CliTestKit.Run(["train", "--config", CliTestKit.MicroConfig(dir), "--steps", "1",
            .. extra.Contains("--out") ? [] : new[] { "--out", dir.Combine("out") }, .. extra]);

    [Fact]
    public void MissingDataFile()
    {
        using var dir = new TempDirectory("colt5-bad");
        Train(dir, "--data", dir.Combine("nope.jsonl")).AssertOneLineError(1, "--data", "nope.jsonl", "not found");
        Assert.False(Directory.Exists(dir.Combine("out")));
        CliTestKit.Run("eval", "--checkpoint", dir.Path, "--data", dir.Combine("nope.jsonl"))
            .AssertOneLineError(1, "nope.jsonl", "not found");
        CliTestKit.Run("generate", "--checkpoint", dir.Path, "--input", dir.Combine("nope.txt"))
            .AssertOneLineError(1, "nope.txt", "not found");
    }

    [Fact]
    public void InvalidJsonLineIsNamedByFileAndLine()
    {
        using var dir = new TempDirectory("colt5-bad");
        var file = dir.Combine("bad.jsonl");
        File.WriteAllText(file, "{\"input\": \"a\", \"target\": \"b\"}\n{\"input\": \"a\", \"target\"\n");
        Train(dir, "--data", file).AssertOneLineError(1, $"{file}:2: invalid JSON");
        Assert.False(Directory.Exists(dir.Combine("out")));
        File.WriteAllText(file, "{\"input\": \"a\"}\n");
        Train(dir, "--data", file).AssertOneLineError(1, $"{file}:1:", "missing field \"target\"");
    }

    [Fact]
    public void EmptyInput()
    {
        using var dir = new TempDirectory("colt5-bad");
        var empty = dir.Combine("empty.jsonl");
        File.WriteAllText(empty, "\n  \n");
        Train(dir, "--data", empty).AssertOneLineError(1, "empty.jsonl", "no examples");
        Assert.False(Directory.Exists(dir.Combine("out")));
        var checkpoint = CliTestKit.TrainedCheckpoint(dir, steps: 1);
        CliTestKit.Run("eval", "--checkpoint", checkpoint, "--data", empty).AssertOneLineError(1, "no examples");
        var blank = dir.Combine("blank.txt");
        File.WriteAllText(blank, "\n\n");
        CliTestKit.Run("generate", "--checkpoint", checkpoint, "--input", blank).AssertOneLineError(1, "empty");
        CliTestKit.Run(["generate", "--checkpoint", checkpoint, "--input", "-"], stdin: "")
            .AssertOneLineError(1, "<stdin>", "empty");
    }

    [Fact]
    public void TextLongerThanTheLimit()
    {
        using var dir = new TempDirectory("colt5-bad");
        var file = dir.Combine("long.jsonl");
        File.WriteAllText(file, "{\"input\": \"short\", \"target\": \"x\"}\n" +
            $"{{\"input\": \"{new string('a', 40)}\", \"target\": \"x\"}}\n");
        Train(dir, "--data", file, "--max-input-length", "16")
            .AssertOneLineError(1, $"{file}:2:", "41 tokens", "limit of 16");
        Assert.False(Directory.Exists(dir.Combine("out")));
        Train(dir, "--data", file, "--max-input-length", "16", "--truncate").AssertOk();

        var checkpoint = CliTestKit.TrainedCheckpoint(dir, steps: 1);
        var input = dir.Combine("long.txt");
        File.WriteAllText(input, "fine\n" + new string('b', 30) + "\n");
        CliTestKit.Run("generate", "--checkpoint", checkpoint, "--input", input, "--max-input-length", "16")
            .AssertOneLineError(1, $"{input}:2:", "31 tokens", "limit of 16");
        CliTestKit.Run("eval", "--checkpoint", checkpoint, "--data", file, "--max-input-length", "16")
            .AssertOneLineError(1, $"{file}:2:", "limit of 16");
    }

    [Fact]
    public void CheckpointFromAnotherConfig()
    {
        using var dir = new TempDirectory("colt5-bad");
        var checkpoint = CliTestKit.TrainedCheckpoint(dir, steps: 1);
        var config = Path.Combine(checkpoint, Checkpoint.ConfigFileName);
        File.WriteAllText(config, ConfigFile.ToJson(TrainingTestKit.MicroConfig() with { DModel = 24 }));
        var input = dir.Combine("in.txt");
        File.WriteAllText(input, "hello\n");
        CliTestKit.Run("generate", "--checkpoint", checkpoint, "--input", input)
            .AssertOneLineError(1, "checkpoint", checkpoint);
        CliTestKit.Run("eval", "--checkpoint", checkpoint, "--data", CliTestKit.CopyData(dir))
            .AssertOneLineError(1, "checkpoint", checkpoint);
        // the training checkpoint notices the changed file before loading anything
        CliTestKit.Run("train", "--resume", checkpoint).AssertOneLineError(1, "config.json does not match");
        CliTestKit.Run("generate", "--checkpoint", dir.Combine("missing"), "--input", input)
            .AssertOneLineError(1, "does not exist");
    }

    [Fact]
    public void UnknownPresetEncoderOptimizerAndDevice()
    {
        using var dir = new TempDirectory("colt5-bad");
        CliTestKit.Run("train", "--preset", "huge", "--out", dir.Combine("out"))
            .AssertOneLineError(1, "unknown preset 'huge'");
        CliTestKit.Run("train", "--encoder", "longformer", "--out", dir.Combine("out"))
            .AssertOneLineError(1, "unknown encoder 'longformer'");
        Train(dir, "--optimizer", "sgd").AssertOneLineError(1, "unknown optimizer 'sgd'");
        Train(dir, "--schedule", "step").AssertOneLineError(1, "unknown schedule 'step'");
        Train(dir, "--device", "cuda").AssertOneLineError(1, "--device cuda", "not available");
        Train(dir, "--device", "tpu").AssertOneLineError(1, "unknown device 'tpu'");
        Assert.False(Directory.Exists(dir.Combine("out")));
        CliTestKit.Run("info", "--preset", "base", "--encoder", "bert").AssertOneLineError(1, "unknown encoder");
        // a config file that fixes Sparse Mixer's mixing length below the data's padded length
        CliTestKit.Run("train", "--config", CliTestKit.MicroConfig(dir, "sparse-mixer"), "--doc-length", "80",
            "--out", dir.Combine("out")).AssertOneLineError(1, "--config sets mixing_length 32");
        CliTestKit.Run("info", "--preset", "mega").AssertOneLineError(1, "unknown preset");
    }

    [Fact]
    public void ResumeDirectoryMissingOrInvalid()
    {
        using var dir = new TempDirectory("colt5-bad");
        CliTestKit.Run("train", "--resume", dir.Combine("nope")).AssertOneLineError(1, "does not exist");
        Directory.CreateDirectory(dir.Combine("empty"));
        CliTestKit.Run("train", "--resume", dir.Combine("empty"))
            .AssertOneLineError(1, "trainer-state.json is missing");

        var checkpoint = CliTestKit.TrainedCheckpoint(dir, steps: 1);
        CliTestKit.Run("train", "--resume", checkpoint, "--lr", "0.5")
            .AssertOneLineError(1, "keeps its training options", "learning rate");
        CliTestKit.Run("train", "--resume", checkpoint, "--encoder", "t5")
            .AssertOneLineError(1, "--encoder t5 differs");
        CliTestKit.Run("train", "--resume", checkpoint, "--doc-length", "100").AssertOneLineError(1, "--doc-length");
        var other = dir.Combine("other");
        Directory.CreateDirectory(other);
        File.WriteAllText(Path.Combine(other, "x"), "");
        CliTestKit.Run("train", "--resume", checkpoint, "--out", other).AssertOneLineError(1, "not empty");
        Assert.Equal(1, TrainingCheckpoint.ReadState(checkpoint).Step);
    }

    [Fact]
    public void OutputDirectoryThatIsNotThisRunsIsRefused()
    {
        using var dir = new TempDirectory("colt5-bad");
        var output = dir.Combine("out");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "results.txt"), "precious");
        Train(dir, "--data", CliTestKit.CopyData(dir)).AssertOneLineError(1, output, "exists and is not empty",
            "--resume", "--overwrite");
        Assert.Equal(["results.txt"], Directory.GetFileSystemEntries(output).Select(Path.GetFileName));
        File.WriteAllText(dir.Combine("file"), "");
        Train(dir, "--out", dir.Combine("file")).AssertOneLineError(1, "is a file");
    }

    [Fact]
    public void UnparsableOptionsAreUsageErrors()
    {
        CliTestKit.Run("train", "--steps", "many").AssertOneLineError(2, "--steps expects a whole number", "'many'");
        CliTestKit.Run("train", "--lr", "-1").AssertOneLineError(2, "--lr expects a non-negative number");
        CliTestKit.Run("train", "--bogus").AssertOneLineError(2, "'--bogus'", "colt5 train --help");
        CliTestKit.Run("generate", "--input", "-").AssertOneLineError(2, "--checkpoint");
        CliTestKit.Run("frobnicate").AssertOneLineError(2);
        CliTestKit.Run().AssertOneLineError(2);
    }
}
