// Training checkpoints: cancellation saves one, a failed save leaves the previous one intact, a half-written or
// modified directory is never taken as valid, and a step leaves no tensors behind in the caller's scope.
using System;
using System.IO;
using System.Linq;
using System.Threading;
using CoLT5.Model.Checkpoints;
using CoLT5.Model.Training;
using CoLT5.Tensors.Memory;
using Xunit;

namespace CoLT5.Tests.Training;

public sealed class TrainerCheckpointTests
{
    private static Trainer NewTrainer(long steps = 6) =>
        Trainer.Create(TrainingTestKit.MicroConfig(), TrainingTestKit.Options(steps: steps),
            TrainingTestKit.MiniRetrieval());

    [Fact]
    public void CancellationFinishesTheStepSavesAndReturns()
    {
        using var dir = new TempDirectory();
        using var cancellation = new CancellationTokenSource();
        var recorder = new TrainingTestKit.LossRecorder
        {
            OnReport = p =>
            {
                if (p.Event == TrainingEvent.Step && p.Step == 2)
                    cancellation.Cancel();
            },
        };
        TrainingResult result;
        using (var trainer = NewTrainer())
            result = trainer.Run(dir.Path, recorder, cancellationToken: cancellation.Token);
        Assert.True(result.Cancelled);
        Assert.Equal(2, result.Step);
        Assert.Equal(dir.Path, result.CheckpointDirectory);
        Assert.Contains(recorder.Reports, r => r.Event == TrainingEvent.Checkpoint && r.Step == 2);
        Assert.Equal(2, TrainingCheckpoint.ReadState(dir.Path).Step);

        using var resumed = Trainer.Resume(dir.Path);
        Assert.Equal(6, resumed.Run(dir.Path, cancellationToken: TrainingTestKit.Ct).Step);
    }

    [Fact]
    public void AFailedSaveLeavesThePreviousCheckpointIntact()
    {
        using var dir = new TempDirectory();
        using var trainer = NewTrainer();
        trainer.Run(dir.Path, stopAtStep: 2, cancellationToken: TrainingTestKit.Ct);
        var before = Directory.GetFiles(dir.Path).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
        trainer.Run(stopAtStep: 3, cancellationToken: TrainingTestKit.Ct);
        var target = Path.GetFullPath(dir.Path);
        TrainingCheckpoint.BeforeCommit = d =>
        {
            if (Path.GetFullPath(d) == target)
                throw new IOException("simulated crash before the commit");
        };
        try
        {
            Assert.Throws<IOException>(() => trainer.SaveCheckpoint(dir.Path));
        }
        finally
        {
            TrainingCheckpoint.BeforeCommit = null;
        }
        var after = Directory.GetFiles(dir.Path).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (name, bytes) in before)
            Assert.True(bytes.AsSpan().SequenceEqual(after[name]), $"{name} changed");
        Assert.Empty(Directory.GetDirectories(dir.Path));        // the stage is gone
        Assert.Equal(2, TrainingCheckpoint.ReadState(dir.Path).Step);
        using var resumed = Trainer.Resume(dir.Path);
        Assert.Equal(2, resumed.Step);
    }

    [Fact]
    public void HalfWrittenOrModifiedDirectoriesAreRejected()
    {
        using var dir = new TempDirectory();
        using (var trainer = NewTrainer(steps: 3))
            trainer.Run(dir.Path, cancellationToken: TrainingTestKit.Ct);
        var state = Path.Combine(dir.Path, TrainingCheckpoint.StateFile);
        var weights = Path.Combine(dir.Path, Checkpoint.WeightsFile);

        // a save interrupted during the commit: trainer-state.json is the last file, so it is absent
        var saved = File.ReadAllBytes(state);
        File.Delete(state);
        var missing = Assert.Throws<CheckpointException>(() => Trainer.Resume(dir.Path));
        Assert.Contains(TrainingCheckpoint.StateFile, missing.Message, StringComparison.Ordinal);
        File.WriteAllBytes(state, saved);

        // weights that do not match the recorded digest (e.g. a newer file from a save that never finished)
        var original = File.ReadAllBytes(weights);
        var changed = (byte[])original.Clone();
        changed[^1] ^= 1;
        File.WriteAllBytes(weights, changed);
        var modified = Assert.Throws<CheckpointException>(() => TrainingCheckpoint.ReadState(dir.Path));
        Assert.Contains(Checkpoint.WeightsFile, modified.Message, StringComparison.Ordinal);
        File.WriteAllBytes(weights, original);

        // not JSON, and a missing directory
        File.WriteAllText(state, "{ not json");
        Assert.Throws<CheckpointException>(() => TrainingCheckpoint.ReadState(dir.Path));
        Assert.Throws<CheckpointException>(() => TrainingCheckpoint.ReadState(dir.Combine("nope")));
    }

    [Fact]
    public void StepsLeaveNothingInTheCallersScope()
    {
        using var trainer = NewTrainer(steps: 3);
        using var scope = DisposeScope.Enter();
        var first = trainer.TrainStep();
        trainer.TrainStep();
        Assert.Equal(0, scope.Count);
        Assert.Equal(1, first.Step);
        Assert.True(first.Tokens > 0 && first.Seconds > 0 && first.GradNorm is > 0);
        Assert.True(trainer.Model.Parameters.Parameters.All(p => p.Tensor.Grad is null), "gradients were not cleared");
    }

    [Fact]
    public void EvaluationReportsLossAndExactMatch()
    {
        using var trainer = Trainer.Create(TrainingTestKit.MicroConfig(),
            TrainingTestKit.Options(steps: 3) with { EvalSize = 5, EvalEvery = 2 }, TrainingTestKit.MiniRetrieval());
        var recorder = new TrainingTestKit.LossRecorder();
        var result = trainer.Run(progress: recorder, cancellationToken: TrainingTestKit.Ct);
        Assert.Equal(5, result.Evaluation!.Examples);
        Assert.True(double.IsFinite(result.Evaluation.Loss) && result.Evaluation.Loss > 0);
        Assert.InRange(result.Evaluation.Accuracy, 0, 1);
        Assert.Equal(2, recorder.Reports.Count(r => r.Event == TrainingEvent.Evaluation)); // step 2 and the end
        Assert.True(Evaluator.SameAnswer([10, 11, 1, 0, 5], [10, 11, 1], eosId: 1));
        Assert.False(Evaluator.SameAnswer([10, 11, 12], [10, 11, 1], eosId: 1));
    }
}
