// End-to-end runs of every command in-process on tiny settings: train (built-in task, JSONL, resume, Ctrl-C),
// generate (file, stdin, beams, Ctrl-C), eval and info.
using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using CoLT5.Cli;
using CoLT5.Cli.Commands;
using CoLT5.Model;
using CoLT5.Model.Checkpoints;
using CoLT5.Model.Training;
using CoLT5.Tests.Model;
using CoLT5.Tests.Testing;
using CoLT5.Tests.Training;
using Xunit;

namespace CoLT5.Tests.Cli;

public sealed class CliCommandTests
{
    [Theory]
    [InlineData("colt5")]
    [InlineData("t5")]
    [InlineData("longt5-local")]
    [InlineData("fnet")]
    [InlineData("sparse-mixer")]
    public void TrainOnTheBuiltInTaskEndsWithAccuracyAndTimePerStep(string encoder)
    {
        using var dir = new TempDirectory("colt5-cli");
        var run = CliTestKit.Run("train", "--config", CliTestKit.MicroConfig(dir), "--encoder", encoder,
            "--doc-length", "80", "--steps", "3", "--batch-size", "2", "--eval-size", "3", "--log-every", "1",
            "--out", dir.Combine("out"));
        run.AssertOk();
        var lines = run.OutLines;
        Assert.Matches(new Regex(@"^accuracy: [01]\.\d{3}$"), lines[^1]);
        Assert.Contains(lines, l => Regex.IsMatch(l, $@"^time per step: \d+ ms \(3 steps, {encoder} encoder\)$"));
        Assert.Contains(lines, l => l.StartsWith("step 3/3  loss ", StringComparison.Ordinal) && l.Contains("tok/s"));
        // Sparse Mixer's progress lines report the router z-loss part of the loss; the other encoders have none
        Assert.Equal(encoder == "sparse-mixer", lines.Any(l => l.StartsWith("step ", StringComparison.Ordinal)
            && l.Contains("router z-loss", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.StartsWith("data: built-in key/value retrieval", StringComparison.Ordinal));
        var state = TrainingCheckpoint.ReadState(dir.Combine("out"));
        Assert.Equal(3, state.Step);
        Assert.Equal(encoder, state.Metadata["encoder"]);
        Assert.Equal(3, state.LastEvaluation!.Examples);
    }

    /// <summary>`convert --cross-kv-heads`: a 4-kv-head checkpoint becomes a 2-group one that loads back; counts that
    /// do not divide and an existing output folder are one-line errors.</summary>
    [Fact]
    public void ConvertPoolsCrossAttentionHeads()
    {
        using var dir = new TempDirectory("colt5-cli");
        var source = dir.Combine("mha");
        using (var model = Seq2SeqModel.Create(ModelTestKit.Micro("colt5", kvHeads: 4), seed: 1))
            Checkpoint.Save(model, source);
        var target = dir.Combine("gqa");
        var run = CliTestKit.Run("convert", "--checkpoint", source, "--out", target, "--cross-kv-heads", "2");
        run.AssertOk();
        Assert.Contains("cross-attention key/value heads 4 → 2", run.Out, StringComparison.Ordinal);
        using (var converted = Checkpoint.Load(target))
            Assert.Equal(2, converted.Config.NumCrossKvHeads);
        CliTestKit.Run("convert", "--checkpoint", source, "--out", dir.Combine("bad"), "--cross-kv-heads", "3")
            .AssertOneLineError(ExitCodes.Error, "must divide");
        CliTestKit.Run("convert", "--checkpoint", source, "--out", target, "--cross-kv-heads", "1")
            .AssertOneLineError(ExitCodes.Error, "already exists");
    }

    /// <summary>convert re-saves in Hugging Face's layout: the float format, shards above the size given, the
    /// folder's spiece.model copied along; bad formats and sizes are one-line errors.</summary>
    [Fact]
    public void ConvertWritesTheFloatFormatShardsAndTokenizerAsked()
    {
        using var dir = new TempDirectory("colt5-cli");
        var source = dir.Combine("t5");
        using (var model = Seq2SeqModel.Create(ModelTestKit.Micro("t5") with { ModelType = "t5", VocabSize = 600 }, seed: 1))
            Checkpoint.Save(model, source);
        var spm = Path.Combine(FixturePaths.Spm, "t5like_unigram_500.model");
        File.Copy(spm, Path.Combine(source, Checkpoint.SentencePieceFile));
        var target = dir.Combine("bf16");
        var run = CliTestKit.Run("convert", "--checkpoint", source, "--out", target, "--store", "bf16",
            "--max-shard-size", "20KB");
        run.AssertOk();
        Assert.Contains("re-saved", run.Out, StringComparison.Ordinal);
        Assert.Contains("BF16 weights, spiece.model", run.Out, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(target, ShardIndex.FileName)));
        Assert.False(File.Exists(Path.Combine(target, Checkpoint.WeightsFile)));
        Assert.Equal(File.ReadAllBytes(spm), File.ReadAllBytes(Path.Combine(target, Checkpoint.SentencePieceFile)));
        using (var converted = Checkpoint.Load(target))
            Assert.Equal(600, converted.Config.VocabSize);
        CliTestKit.Run("convert", "--checkpoint", source, "--out", dir.Combine("x"), "--store", "int8")
            .AssertOneLineError(ExitCodes.Error, "expected f32, bf16, f16 or f64");
        CliTestKit.Run("convert", "--checkpoint", source, "--out", dir.Combine("y"), "--max-shard-size", "big")
            .AssertOneLineError(ExitCodes.Error, "--max-shard-size big");
    }

    /// <summary>The issue's path on a micro model: train a T5, convert it to CoLT5 (split branches, fresh routers),
    /// then uptrain for a fraction of the step budget; --uptrain refuses options that would pick another model.</summary>
    [Fact]
    public void ConvertATrainedT5ToCoLT5AndUptrainIt()
    {
        using var dir = new TempDirectory("colt5-cli");
        var data = CliTestKit.CopyData(dir);
        var t5 = dir.Combine("t5");
        CliTestKit.Run("train", "--data", data, "--config", CliTestKit.MicroConfig(dir, "t5"), "--steps", "3",
            "--batch-size", "4", "--eval-size", "2", "--out", t5).AssertOk();
        var converted = dir.Combine("colt5");
        var convert = CliTestKit.Run("convert", "--checkpoint", t5, "--out", converted, "--to", "colt5",
            "--light-heads", "1");
        convert.AssertOk();
        Assert.Contains("t5 → colt5 (1 light + 3 heavy heads", convert.Out, StringComparison.Ordinal);
        Assert.Contains("colt5 train --uptrain", convert.Out, StringComparison.Ordinal);

        var uptrained = dir.Combine("uptrained");
        CliTestKit.Run("train", "--uptrain", converted, "--uptrain-fraction", "0.1", "--steps", "40", "--data", data,
            "--batch-size", "4", "--eval-size", "2", "--out", uptrained).AssertOk();
        var state = TrainingCheckpoint.ReadState(uptrained);
        Assert.Equal(4, state.Step);                                              // 10% of 40 steps
        Assert.StartsWith(converted, state.Metadata["uptrain"], StringComparison.Ordinal);
        using (var model = Checkpoint.Load(uptrained))
            Assert.Equal(CoLT5.Model.Configuration.EncoderType.CoLT5, model.Config.Encoder);

        CliTestKit.Run("train", "--uptrain", converted, "--encoder", "t5", "--data", data, "--out", dir.Combine("x"))
            .AssertOneLineError(ExitCodes.Error, "--encoder cannot be used with --uptrain");
        CliTestKit.Run("train", "--uptrain-fraction", "0.1", "--data", data, "--out", dir.Combine("y"))
            .AssertOneLineError(ExitCodes.Error, "--uptrain-fraction needs --uptrain");
        CliTestKit.Run("convert", "--checkpoint", converted, "--out", dir.Combine("z"), "--to", "colt5")
            .AssertOneLineError(ExitCodes.Error, "already a CoLT5 model");
        CliTestKit.Run("convert", "--checkpoint", t5, "--out", dir.Combine("w"), "--light-heads", "2")
            .AssertOneLineError(ExitCodes.Error, "need --to colt5");
    }

    [Theory]
    [InlineData("2GB", 2_000_000_000L)]
    [InlineData("500MB", 500_000_000L)]
    [InlineData("1.5GiB", 1_610_612_736L)]
    [InlineData("60KB", 60_000L)]
    [InlineData("12345", 12_345L)]
    [InlineData(null, 5_000_000_000L)]
    public void ShardSizesReadLikeHuggingFaces(string? text, long bytes) =>
        Assert.Equal(bytes, CoLT5.Cli.Commands.ConvertCommand.ParseSize(text));

    [Theory]
    [InlineData("0")]
    [InlineData("-5MB")]
    [InlineData("5 parsecs")]
    [InlineData("")]
    public void BadShardSizesAreRefused(string text) =>
        Assert.Throws<CliException>(() => CoLT5.Cli.Commands.ConvertCommand.ParseSize(text));

    /// <summary>A checkpoint folder with spiece.model (a Hugging Face T5 folder) generates through SentencePiece;
    /// a vocabulary too small for it, a corrupt spiece.model and eval on such a folder are one-line errors.</summary>
    [Fact]
    public void GenerateUsesTheFoldersSentencePieceModel()
    {
        using var dir = new TempDirectory("colt5-cli");
        var spm = Path.Combine(FixturePaths.Spm, "t5like_unigram_500.model");       // 500 pieces + 100 sentinels
        var folder = dir.Combine("t5");
        using (var model = Seq2SeqModel.Create(ModelTestKit.Micro("t5") with { VocabSize = 600 }, seed: 1))
            Checkpoint.Save(model, folder);
        File.Copy(spm, Path.Combine(folder, "spiece.model"));
        var inputs = dir.Combine("inputs.txt");
        File.WriteAllText(inputs, "Hello world\nThis program is free software.\n");
        var run = CliTestKit.Run("generate", "--checkpoint", folder, "--input", inputs, "--max-new-tokens", "5");
        run.AssertOk();
        Assert.Equal(2, run.OutLines.Length);

        var small = dir.Combine("small");
        using (var model = Seq2SeqModel.Create(ModelTestKit.Micro("t5"), seed: 1))
            Checkpoint.Save(model, small);
        File.Copy(spm, Path.Combine(small, "spiece.model"));
        CliTestKit.Run("generate", "--checkpoint", small, "--input", inputs)
            .AssertOneLineError(ExitCodes.Error, "cannot hold the spiece.model's 600 ids");
        File.WriteAllBytes(Path.Combine(folder, "spiece.model"), File.ReadAllBytes(spm)[..100]);
        CliTestKit.Run("generate", "--checkpoint", folder, "--input", inputs)
            .AssertOneLineError(ExitCodes.Error, "spiece.model");
    }

    /// <summary>A Hugging Face-style folder (spiece.model beside the weights): eval reads JSONL through its
    /// SentencePiece model, and converting it to CoLT5 then uptraining on JSONL tokenizes the same way, keeps the
    /// tokenizer with the run's checkpoint, and the result generates.</summary>
    [Fact]
    public void SentencePieceFoldersEvaluateConvertAndUptrain()
    {
        using var dir = new TempDirectory("colt5-cli");
        var spm = Path.Combine(FixturePaths.Spm, "t5like_unigram_500.model");       // 500 pieces + 100 sentinels
        var folder = dir.Combine("t5");
        using (var model = Seq2SeqModel.Create(ModelTestKit.Micro("t5", kvHeads: 4) with { ModelType = "t5", VocabSize = 600 }, seed: 1))
            Checkpoint.Save(model, folder, new CheckpointSaveOptions { SentencePieceModel = spm });
        var data = CliTestKit.CopyData(dir, count: 16);
        var eval = CliTestKit.Run("eval", "--checkpoint", folder, "--data", data);
        eval.AssertOk();
        Assert.Contains("examples: 16", eval.Out, StringComparison.Ordinal);

        var converted = dir.Combine("colt5");
        CliTestKit.Run("convert", "--checkpoint", folder, "--out", converted, "--to", "colt5").AssertOk();
        Assert.True(File.Exists(Path.Combine(converted, Checkpoint.SentencePieceFile)));
        var run = dir.Combine("run");
        CliTestKit.Run("train", "--uptrain", converted, "--uptrain-fraction", "0.1", "--steps", "30", "--data", data,
            "--batch-size", "4", "--eval-size", "2", "--out", run).AssertOk();
        Assert.Equal(File.ReadAllBytes(spm), File.ReadAllBytes(Path.Combine(run, Checkpoint.SentencePieceFile)));
        Assert.Equal(TrainingData.Sha256(spm), TrainingCheckpoint.ReadState(run).Data!.SentencePieceSha256);
        var inputs = dir.Combine("inputs.txt");
        File.WriteAllText(inputs, "copy: w1x1\n");
        CliTestKit.Run("generate", "--checkpoint", run, "--input", inputs, "--max-new-tokens", "4").AssertOk();
        CliTestKit.Run("train", "--uptrain", converted, "--out", dir.Combine("builtin"))
            .AssertOneLineError(ExitCodes.Error, "give --data JSONL");
    }

    [Fact]
    public void TrainOnJsonlThenGenerateAndEvaluate()
    {
        using var dir = new TempDirectory("colt5-cli");
        var data = CliTestKit.CopyData(dir, count: 20);
        var checkpoint = dir.Combine("run");
        var train = CliTestKit.Run("train", "--data", data, "--config", CliTestKit.MicroConfig(dir), "--steps", "4",
            "--batch-size", "4", "--optimizer", "adamw", "--lr", "0.01", "--schedule", "linear", "--warmup", "1",
            "--eval-every", "2", "--checkpoint-every", "2", "--eval-size", "2", "--out", checkpoint);
        train.AssertOk();
        Assert.Contains(train.OutLines, l => l.StartsWith("eval @ step 2: loss ", StringComparison.Ordinal));
        Assert.Contains(train.OutLines, l => l == $"checkpoint @ step 2: {checkpoint}");
        Assert.Matches(new Regex(@"^accuracy: [01]\.\d{3}$"), train.OutLines[^1]);
        Assert.Equal(2, TrainingCheckpoint.ReadState(checkpoint).Data!.HeldOut);   // a tenth of 20 records

        var inputs = dir.Combine("inputs.txt");
        File.WriteAllText(inputs, "copy: w1x1\n\ncopy: w2x2\r\ncopy: w3x3\n");
        var greedy = CliTestKit.Run("generate", "--checkpoint", checkpoint, "--input", inputs, "--max-new-tokens", "6");
        greedy.AssertOk();
        Assert.Equal(3, greedy.Out.Split('\n').Length - 1);     // one line per non-blank input line
        var piped = CliTestKit.Run(["generate", "--checkpoint", checkpoint, "--input", "-", "--max-new-tokens", "6"],
            stdin: "copy: w1x1\ncopy: w2x2\ncopy: w3x3");
        piped.AssertOk();
        Assert.Equal(greedy.Out, piped.Out);
        var beams = CliTestKit.Run("generate", "--checkpoint", checkpoint, "--input", inputs, "--num-beams", "3",
            "--max-new-tokens", "4");
        beams.AssertOk();
        Assert.Equal(3, beams.Out.Split('\n').Length - 1);

        var eval = CliTestKit.Run("eval", "--checkpoint", checkpoint, "--data", data, "--batch-size", "7");
        eval.AssertOk();
        Assert.Equal("examples: 20", eval.OutLines[0]);
        Assert.Matches(new Regex(@"^loss: \d+\.\d{4}$"), eval.OutLines[1]);
        Assert.Matches(new Regex(@"^accuracy: [01]\.\d{3}$"), eval.OutLines[^1]);
    }

    [Fact]
    public void ResumeContinuesTheRunInPlace()
    {
        using var dir = new TempDirectory("colt5-cli");
        var checkpoint = CliTestKit.TrainedCheckpoint(dir, steps: 2);
        var resumed = CliTestKit.Run("train", "--resume", checkpoint, "--steps", "4", "--eval-size", "1");
        resumed.AssertOk();
        Assert.Contains($"resumed: step 2 of {checkpoint}", resumed.OutLines);
        Assert.Contains(resumed.OutLines, l => l.StartsWith("time per step: ", StringComparison.Ordinal) &&
                                             l.Contains("(2 steps", StringComparison.Ordinal));
        Assert.Equal(4, TrainingCheckpoint.ReadState(checkpoint).Step);

        // into another directory, which must then be new or empty
        var copy = dir.Combine("copy");
        CliTestKit.Run("train", "--resume", checkpoint, "--steps", "5", "--out", copy).AssertOk();
        Assert.Equal(5, TrainingCheckpoint.ReadState(copy).Step);
        Assert.Equal(4, TrainingCheckpoint.ReadState(checkpoint).Step);
    }

    [Fact]
    public void CancellationSavesACheckpointAndSaysWhere()
    {
        using var dir = new TempDirectory("colt5-cli");
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var output = dir.Combine("out");
        var run = CliTestKit.Run(["train", "--data", CliTestKit.CopyData(dir), "--config", CliTestKit.MicroConfig(dir),
            "--steps", "5", "--out", output], cancellation: cancelled.Token);
        Assert.Equal(130, run.ExitCode);
        Assert.Equal("", run.Error);
        Assert.Equal($"cancelled at step 0; checkpoint saved to {output} (continue with: colt5 train --resume " +
            $"{output})", run.OutLines[^1]);
        Assert.Equal(0, TrainingCheckpoint.ReadState(output).Step);
        CliTestKit.Run("train", "--resume", output, "--steps", "1").AssertOk();
    }

    [Fact]
    public void GenerateStopsBetweenBatchesWhenCancelled()
    {
        using var dir = new TempDirectory("colt5-cli");
        var checkpoint = CliTestKit.TrainedCheckpoint(dir, steps: 1);
        var inputs = dir.Combine("inputs.txt");
        File.WriteAllLines(inputs, Enumerable.Range(1, 5).Select(i => $"copy: w{i}x{i}"));
        string[] args = ["generate", "--checkpoint", checkpoint, "--input", inputs, "--batch-size", "2",
            "--max-new-tokens", "3"];
        var complete = CliTestKit.Run(args);
        complete.AssertOk();
        Assert.Equal(5, complete.OutLines.Length);

        // cancelled while the first batch is written: that batch's two lines, then nothing
        using var cancellation = new CancellationTokenSource();
        using var output = new CancelOnWrite(cancellation);
        using var error = new StringWriter();
        using var stdin = new StringReader("");
        var code = ColtCli.Run(args, new CliContext(output, error, stdin, Interactive: false, cancellation.Token));
        Assert.Equal(ExitCodes.Cancelled, code);
        Assert.Equal(complete.OutLines[..2], new CliRun(code, output.ToString(), "").OutLines);
        Assert.Equal("colt5: generation cancelled; outputs written for the first 2 of 5 inputs",
            error.ToString().TrimEnd());

        // cancelled before anything was decoded: no output at all
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var early = CliTestKit.Run(args, cancellation: cancelled.Token);
        Assert.Equal(ExitCodes.Cancelled, early.ExitCode);
        Assert.Equal("", early.Out);
        Assert.Contains("first 0 of 5 inputs", early.Error, StringComparison.Ordinal);
    }

    // Standard output that cancels the run as soon as a line is written to it.
    private sealed class CancelOnWrite(CancellationTokenSource source) : StringWriter
    {
        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            source.Cancel();
        }
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("two\nlines", @"two\nlines")]
    [InlineData("crlf\r\n", @"crlf\r\n")]
    [InlineData(@"a literal \n", @"a literal \\n")]
    [InlineData(@"C:\dir\", @"C:\\dir\\")]
    [InlineData("\\\n", @"\\\n")]
    public void GenerateOutputsEscapeBackslashesAndLineBreaksReversibly(string output, string written)
    {
        var line = GenerateCommand.OneLine(output);
        Assert.Equal(written, line);
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain('\r', line);
        Assert.Equal(output, Unescape(line));
    }

    // The inverse of the generate output escaping: \\ → \, \n → line feed, \r → carriage return.
    private static string Unescape(string line)
    {
        var text = new StringBuilder();
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] != '\\')
            {
                text.Append(line[i]);
                continue;
            }
            Assert.True(i + 1 < line.Length, $"dangling backslash in '{line}'");
            text.Append(line[++i] switch
            {
                '\\' => '\\',
                'n' => '\n',
                'r' => '\r',
                var c => throw new Xunit.Sdk.XunitException($"unknown escape \\{c} in '{line}'"),
            });
        }
        return text.ToString();
    }

    [Fact]
    public void OverwriteAllowsANonEmptyOutputDirectory()
    {
        using var dir = new TempDirectory("colt5-cli");
        var output = dir.Combine("out");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "notes.txt"), "keep me");
        CliTestKit.Run("train", "--data", CliTestKit.CopyData(dir), "--config", CliTestKit.MicroConfig(dir),
            "--steps", "1", "--out", output, "--overwrite").AssertOk();
        Assert.Equal("keep me", File.ReadAllText(Path.Combine(output, "notes.txt")));
        Assert.Equal(1, TrainingCheckpoint.ReadState(output).Step);
    }

    [Fact]
    public void InfoPrintsParametersAndFlops()
    {
        var run = CliTestKit.Run("info", "--preset", "base", "--length", "16384");
        run.AssertOk();
        Assert.Contains("parameters: 432.8M (432,810,240; every tensor, as the spec §3.3 table counts)", run.OutLines);
        Assert.Contains(run.OutLines, l => l.StartsWith("  formula (spec §4.1, d = 768, w = 255): 233/32·nd² + " +
            "3/256·n²d + ¼·2nwd = ", StringComparison.Ordinal));
        Assert.Contains(run.OutLines, l => l.Contains("m = 1024, q = 1024, v = 2048", StringComparison.Ordinal));
        Assert.Contains(run.OutLines, l => l.TrimStart().StartsWith("heavy feed-forward", StringComparison.Ordinal));
        foreach (var (preset, count) in new[] { ("large", "1462.7M"), ("xl", "5297.3M") })
            Assert.Contains($"parameters: {count}", CliTestKit.Run("info", "--preset", preset).Out);
        var t5 = CliTestKit.Run("info", "--preset", "base", "--encoder", "t5");
        t5.AssertOk();
        Assert.Contains(t5.OutLines, l => l.StartsWith("  formula (spec §4.1, d = 768, w = 255): 12nd² + 2n²d = ",
            StringComparison.Ordinal));
        var fnet = CliTestKit.Run("info", "--preset", "base", "--encoder", "fnet", "--length", "512");
        fnet.AssertOk();
        Assert.Contains(fnet.OutLines, l => l.StartsWith("fnet: parameter-free 2D Fourier mixing",
            StringComparison.Ordinal));
        Assert.Contains(fnet.OutLines, l => l.Contains("8nd² + 2.5·nd·log₂(nd) = ", StringComparison.Ordinal));
        var mixer = CliTestKit.Run("info", "--preset", "small", "--encoder", "sparse-mixer", "--length", "512");
        mixer.AssertOk();
        Assert.Contains("sparse mixer: 4 attention layers (top), 4 MoE layers (middle) of 16 experts at capacity " +
            "factor 1, linear mixing length 512, router z-loss 0.0001; layers: mixing+dense, mixing+dense, " +
            "mixing+moe, mixing+moe, attention+moe, attention+moe, attention+dense, attention+dense", mixer.OutLines);
        Assert.Contains(mixer.OutLines, l => l.TrimStart().StartsWith("MoE experts (4/8)", StringComparison.Ordinal));
        Assert.Contains(mixer.OutLines, l => l.TrimStart().StartsWith("sparse-mixer", StringComparison.Ordinal));

        using var dir = new TempDirectory("colt5-cli");
        var checkpoint = CliTestKit.TrainedCheckpoint(dir, steps: 1);
        var fromCheckpoint = CliTestKit.Run("info", "--checkpoint", checkpoint, "--length", "64");
        fromCheckpoint.AssertOk();
        Assert.Contains(fromCheckpoint.OutLines, l => l.StartsWith($"model: {checkpoint}, colt5 encoder",
            StringComparison.Ordinal));
    }

    [Fact]
    public void HelpListsTheCommandsAndTheIssuesOptions()
    {
        var help = CliTestKit.Run("--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var command in new[] { "train", "generate", "eval", "info" })
            Assert.Contains(command, help.Out, StringComparison.Ordinal);
        var train = CliTestKit.Run("train", "--help").Out;
        foreach (var option in new[] { "--data", "--encoder", "--preset", "--steps", "--out", "--resume", "--seed" })
            Assert.Contains(option, train, StringComparison.Ordinal);
        var generate = CliTestKit.Run("generate", "--help").Out;
        foreach (var option in new[] { "--checkpoint", "--input", "--num-beams", "--max-new-tokens" })
            Assert.Contains(option, generate, StringComparison.Ordinal);
        Assert.Contains("--data", CliTestKit.Run("eval", "--help").Out, StringComparison.Ordinal);
        Assert.Contains("--preset", CliTestKit.Run("info", "--help").Out, StringComparison.Ordinal);
        Assert.True(BuiltInTask.Defaults.Steps > 0);
    }
}
