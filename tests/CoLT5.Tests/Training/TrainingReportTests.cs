// What a training run reports about itself: the step time after a length warm-up counts only the steps that saw
// no warm-up batch, so baselines compare at the task's full input length.
using CoLT5.Model.Training;
using Xunit;

namespace CoLT5.Tests.Training;

public sealed class TrainingReportTests
{
    [Fact]
    public void StepTimeAfterWarmupCountsOnlyStepsWithoutWarmupBatches()
    {
        // 3 warm-up micro-batches, 2 micro-batches per step: steps 1 and 2 touch the warm-up, steps 3–6 do not
        var spec = TrainingTestKit.MiniRetrieval() with { RetrievalWarmup = [new(3, 40)] };
        var data = TrainingData.Open(spec, batchSize: 2);
        Assert.Equal(3, data.WarmupBatches);
        using var trainer = Trainer.Create(TrainingTestKit.MicroConfig(), TrainingTestKit.Options(), spec);
        var result = trainer.Run(progress: new TrainingTestKit.LossRecorder(), cancellationToken: TrainingTestKit.Ct);
        Assert.Equal(6, result.StepsThisRun);
        Assert.Equal(4, result.StepsAfterWarmup);
        Assert.True(result.MillisecondsPerStepAfterWarmup > 0);
    }

    [Fact]
    public void WithoutWarmupEveryStepCountsAsFullLength()
    {
        using var trainer = Trainer.Create(TrainingTestKit.MicroConfig(), TrainingTestKit.Options(),
            TrainingTestKit.MiniRetrieval());
        Assert.Equal(0, TrainingData.Open(TrainingTestKit.MiniRetrieval(), 2).WarmupBatches);
        var result = trainer.Run(cancellationToken: TrainingTestKit.Ct);
        Assert.Equal(result.StepsThisRun, result.StepsAfterWarmup);
        Assert.Equal(result.MillisecondsPerStep, result.MillisecondsPerStepAfterWarmup, 9);
    }
}
