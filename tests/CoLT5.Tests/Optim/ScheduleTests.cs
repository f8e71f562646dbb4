// Learning-rate schedules at their key steps: start, end of warm-up, midpoints, end of decay and beyond.
using System;
using CoLT5.Nn.Optim;
using Xunit;
using static CoLT5.Tests.Optim.OptimTestSupport;

namespace CoLT5.Tests.Optim;

public sealed class ScheduleTests
{
    private static void Near(double want, double got) => Assert.Equal(want, got, 1e-15);

    [Fact]
    public void Constant()
    {
        var s = LearningRateSchedules.Constant(1e-3);
        Near(1e-3, s.LearningRate(0));
        Near(1e-3, s.LearningRate(1_000_000));
    }

    [Fact]
    public void T5RsqrtIsAPlateauThenInverseSquareRoot()
    {
        var s = LearningRateSchedules.T5Rsqrt();
        Near(0.01, s.LearningRate(0));
        Near(0.01, s.LearningRate(9_999));
        Near(0.01, s.LearningRate(10_000));
        Near(0.005, s.LearningRate(40_000));
        Near(0.001, s.LearningRate(1_000_000));
        Near(0.5 / Math.Sqrt(1e4), LearningRateSchedules.T5Rsqrt(0.5).LearningRate(3));
    }

    [Fact]
    public void LinearWarmupThenLinearDecay()
    {
        var s = LearningRateSchedules.LinearWarmupLinearDecay(peak: 2, warmupSteps: 10, totalSteps: 110);
        Near(0, s.LearningRate(0));
        Near(1, s.LearningRate(5));
        Near(2, s.LearningRate(10));
        Near(1, s.LearningRate(60));
        Near(0.02, s.LearningRate(109));
        Near(0, s.LearningRate(110));
        Near(0, s.LearningRate(500));
        var floor = LearningRateSchedules.LinearWarmupLinearDecay(1, 0, 100, end: 0.1);
        Near(1, floor.LearningRate(0));
        Near(0.55, floor.LearningRate(50));
        Near(0.1, floor.LearningRate(1000));
    }

    [Fact]
    public void CosineWithWarmup()
    {
        var s = LearningRateSchedules.CosineWithWarmup(peak: 1, warmupSteps: 10, totalSteps: 110);
        Near(0, s.LearningRate(0));
        Near(0.3, s.LearningRate(3));
        Near(1, s.LearningRate(10));
        Near(0.5 * (1 + Math.Cos(Math.PI / 4)), s.LearningRate(35));
        Near(0.5, s.LearningRate(60));
        Near(0, s.LearningRate(110));
        var floor = LearningRateSchedules.CosineWithWarmup(1, 10, 110, final: 0.1);
        Near(0.55, floor.LearningRate(60));
        Near(0.1, floor.LearningRate(200));
    }

    [Fact]
    public void WarmupComposesWithAnySchedule()
    {
        // Unshifted: the ramp ends at the inner schedule's own value at step W, then the inner schedule continues.
        var rsqrt = LearningRateSchedules.WithWarmup(new RsqrtSchedule(1, 100), 100, shiftInner: false);
        Near(0, rsqrt.LearningRate(0));
        Near(0.05, rsqrt.LearningRate(50));
        Near(0.1, rsqrt.LearningRate(100));
        Near(0.05, rsqrt.LearningRate(400));
        // Shifted: the inner schedule starts counting after the warm-up.
        var shifted = LearningRateSchedules.WithWarmup(new LinearSchedule(1, 0, 10), 10);
        Near(0.5, shifted.LearningRate(5));
        Near(1, shifted.LearningRate(10));
        Near(0.5, shifted.LearningRate(15));
        Near(0, shifted.LearningRate(20));
        // No warm-up steps: the inner schedule from step 0.
        Near(1, LearningRateSchedules.WithWarmup(LearningRateSchedules.Constant(1), 0).LearningRate(0));
    }

    [Fact]
    public void RejectsATotalWithinTheWarmup() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedules.CosineWithWarmup(1, 10, 10));

    [Fact]
    public void OptimizerEvaluatesTheScheduleAtItsStepCount()
    {
        using var p = Param(new double[] { 1 });
        using var opt = new AdamW([("w", p)], LearningRateSchedules.LinearWarmupLinearDecay(1, 2, 4));
        double[] want = [0, 0.5, 1, 0.5, 0];
        for (var i = 0; i < want.Length; i++)
        {
            Assert.Equal(i, opt.StepCount);
            Near(want[i], opt.LearningRate);
            SetGrad(p, [1]);
            opt.Step();
        }
        // A step without any gradient still advances the schedule.
        opt.ZeroGrad();
        opt.Step();
        Assert.Equal(6, opt.StepCount);
        Assert.Equal(5, opt.ParameterStepCount("w"));
    }
}
