// Reproducibility of the training loop: the same seed gives the same losses, and training N steps, saving,
// resuming and training M more gives bit-identical losses and weights to N + M uninterrupted steps.
using System;
using System.Linq;
using CoLT5.Model.Checkpoints;
using CoLT5.Model.Training;
using Xunit;

namespace CoLT5.Tests.Training;

public sealed class TrainerResumeTests
{
    [Fact]
    public void SameSeedGivesTheSameLosses()
    {
        double[] Losses(ulong seed)
        {
            using var trainer = Trainer.Create(TrainingTestKit.MicroConfig(),
                TrainingTestKit.Options() with { Seed = seed }, TrainingTestKit.MiniRetrieval());
            var recorder = new TrainingTestKit.LossRecorder();
            trainer.Run(progress: recorder, cancellationToken: TrainingTestKit.Ct);
            return [.. recorder.Losses];
        }
        var a = Losses(11);
        var b = Losses(11);
        var c = Losses(12);
        Assert.Equal(6, a.Length);
        Assert.Equal(a.Select(BitConverter.DoubleToInt64Bits), b.Select(BitConverter.DoubleToInt64Bits));
        Assert.NotEqual(a, c);
        Assert.True(a.All(double.IsFinite));
    }

    [Theory]
    [InlineData(OptimizerKind.Adafactor, "colt5")]
    [InlineData(OptimizerKind.AdamW, "colt5")]
    [InlineData(OptimizerKind.AdamW, "longt5-tglobal")]
    public void ResumeContinuesBitForBit(OptimizerKind optimizer, string encoder)
    {
        using var dir = new TempDirectory();
        var config = TrainingTestKit.MicroConfig(encoder);
        var options = TrainingTestKit.Options(optimizer, steps: 6);

        using var straight = Trainer.Create(config, options, TrainingTestKit.MiniRetrieval());
        var all = new TrainingTestKit.LossRecorder();
        straight.Run(progress: all, cancellationToken: TrainingTestKit.Ct);

        var first = new TrainingTestKit.LossRecorder();
        using (var part = Trainer.Create(config, options, TrainingTestKit.MiniRetrieval()))
        {
            var result = part.Run(dir.Path, first, stopAtStep: 3, cancellationToken: TrainingTestKit.Ct);
            Assert.Equal(3, result.Step);
            Assert.False(result.Cancelled);
        }
        var second = new TrainingTestKit.LossRecorder();
        using var resumed = Trainer.Resume(dir.Path);
        Assert.Equal(3, resumed.Step);
        Assert.Equal(6, resumed.DataPosition);                   // 3 steps × 2 micro-batches
        resumed.Run(progress: second, cancellationToken: TrainingTestKit.Ct);

        Assert.Equal(all.Losses.Select(BitConverter.DoubleToInt64Bits),
            first.Losses.Concat(second.Losses).Select(BitConverter.DoubleToInt64Bits));
        var expected = TrainingTestKit.Snapshot(straight);
        var actual = TrainingTestKit.Snapshot(resumed);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, bits) in expected)
            Assert.True(bits.SequenceEqual(actual[name]), $"{name} differs after resuming");
    }

    [Fact]
    public void JsonlDataResumesExactlyAcrossEpochs()
    {
        using var dir = new TempDirectory();
        var file = dir.Combine("pairs.jsonl");
        System.IO.File.WriteAllLines(file, Enumerable.Range(0, 7).Select(i =>
            $"{{\"input\": \"question {i} {new string('x', i * 3)}\", \"target\": \"answer {i % 3}\"}}"));
        var spec = new TrainingDataSpec
        {
            Kind = TrainingDataKind.Jsonl,
            Path = file,
            Sha256 = TrainingData.Sha256(file),
            HeldOut = 1,
            MaxInputLength = 64,
            MaxTargetLength = 16,
            InputMultiple = 8,
        };
        var options = TrainingTestKit.Options(steps: 5) with { BatchSize = 2, GradientAccumulation = 1, EvalSize = 1 };
        using var straight = Trainer.Create(TrainingTestKit.MicroConfig(), options, spec);
        Assert.Single(straight.HeldOut);
        var all = new TrainingTestKit.LossRecorder();
        straight.Run(progress: all, cancellationToken: TrainingTestKit.Ct);     // 6 examples: 3 batches per epoch

        var first = new TrainingTestKit.LossRecorder();
        using (var part = Trainer.Create(TrainingTestKit.MicroConfig(), options, spec))
            part.Run(dir.Combine("run"), first, stopAtStep: 2, cancellationToken: TrainingTestKit.Ct);
        var second = new TrainingTestKit.LossRecorder();
        using (var resumed = Trainer.Resume(dir.Combine("run")))
            resumed.Run(progress: second, cancellationToken: TrainingTestKit.Ct);
        Assert.Equal(all.Losses, first.Losses.Concat(second.Losses));

        // a changed data file is refused: an exact resume needs the same data
        System.IO.File.AppendAllText(file, "{\"input\": \"more\", \"target\": \"data\"}\n");
        var e = Assert.Throws<CheckpointException>(() => Trainer.Resume(dir.Combine("run")));
        Assert.Contains("changed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ResumeRefusesOptionsThatChangeTheTrajectoryButTakesMoreSteps()
    {
        using var dir = new TempDirectory();
        var options = TrainingTestKit.Options(steps: 3);
        using (var trainer = Trainer.Create(TrainingTestKit.MicroConfig(), options, TrainingTestKit.MiniRetrieval()))
            trainer.Run(dir.Path, cancellationToken: TrainingTestKit.Ct);
        var e = Assert.Throws<ArgumentException>(() => Trainer.Resume(dir.Path, o => o with { LearningRate = 1 }));
        Assert.Contains("learning rate", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Trainer.Resume(dir.Path, o => o with { BatchSize = 3 }));

        using var more = Trainer.Resume(dir.Path, o => o with { MaxSteps = 4 });
        Assert.Equal(3, more.Options.DecaySteps);               // the schedule keeps its original length
        var result = more.Run(dir.Path, cancellationToken: TrainingTestKit.Ct);
        Assert.Equal(4, result.Step);
        Assert.Equal(1, result.StepsThisRun);
    }
}
