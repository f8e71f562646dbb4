// Learning-rate schedules: step → learning rate. Constant, linear decay, cosine decay, T5X's inverse square root,
// and a linear warm-up that wraps any of them; LearningRateSchedules builds the usual combinations.
using System;

namespace CoLT5.Nn.Optim;

/// <summary>
/// Maps an optimizer step to a learning rate. <c>step</c> is the number of updates already applied (0 for the first
/// update), the convention of T5X's schedules and of PyTorch's <c>LambdaLR</c> stepped after the optimizer.
/// Implementations are pure functions of the step, so resuming at step <c>k</c> needs no schedule state.
/// </summary>
public interface ILearningRateSchedule
{
    /// <summary>The learning rate of the update that follows <paramref name="step"/> completed updates.</summary>
    double LearningRate(long step);
}

/// <summary>The same learning rate at every step.</summary>
/// <param name="Value">The learning rate.</param>
public sealed record ConstantSchedule(double Value) : ILearningRateSchedule
{
    /// <inheritdoc/>
    public double LearningRate(long step) => Value;
}

/// <summary>
/// Linear interpolation from <paramref name="Start"/> at step 0 to <paramref name="End"/> at step
/// <paramref name="Steps"/>, then <paramref name="End"/> for ever.
/// </summary>
/// <param name="Start">Learning rate at step 0.</param>
/// <param name="End">Learning rate from step <paramref name="Steps"/> on.</param>
/// <param name="Steps">Length of the ramp (≥ 1).</param>
public sealed record LinearSchedule(double Start, double End, long Steps) : ILearningRateSchedule
{
    /// <inheritdoc/>
    public double LearningRate(long step)
    {
        if (step >= Steps)
            return End;
        var t = (double)Math.Max(step, 0) / Steps;
        return Start + (End - Start) * t;
    }
}

/// <summary>
/// Half a cosine from <paramref name="Peak"/> at step 0 down to <paramref name="Final"/> at step
/// <paramref name="Steps"/>: Final + (Peak − Final)·½(1 + cos(π·step/Steps)); <paramref name="Final"/> afterwards.
/// </summary>
/// <param name="Peak">Learning rate at step 0.</param>
/// <param name="Steps">Length of the decay (≥ 1).</param>
/// <param name="Final">Learning rate from step <paramref name="Steps"/> on.</param>
public sealed record CosineSchedule(double Peak, long Steps, double Final = 0) : ILearningRateSchedule
{
    /// <inheritdoc/>
    public double LearningRate(long step)
    {
        if (step >= Steps)
            return Final;
        var progress = (double)Math.Max(step, 0) / Steps;
        return Final + (Peak - Final) * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}

/// <summary>
/// T5X's inverse-square-root decay: <paramref name="Scale"/> / √max(step, <paramref name="WarmupSteps"/>). With the
/// T5.1.1 defaults (scale 1, 10⁴ steps) the rate is a constant 0.01 for 10k steps, then decays as 1/√step. The
/// "warm-up" here is a plateau, not a ramp (as in T5X's <c>rsqrt_decay</c>); wrap it in
/// <see cref="WarmupSchedule"/> for a ramp.
/// </summary>
/// <param name="Scale">Numerator (T5X <c>base_learning_rate</c> times any constant factor).</param>
/// <param name="WarmupSteps">Length of the constant plateau (≥ 1).</param>
public sealed record RsqrtSchedule(double Scale = 1.0, long WarmupSteps = 10_000) : ILearningRateSchedule
{
    /// <inheritdoc/>
    public double LearningRate(long step) => Scale / Math.Sqrt(Math.Max(step, WarmupSteps));
}

/// <summary>
/// A linear warm-up in front of another schedule. For step &lt; W = <paramref name="WarmupSteps"/> the rate is
/// (step / W)·r₀, rising from 0 at step 0; from step W on it is the inner schedule, so the join is continuous. When
/// <paramref name="ShiftInner"/> is true the inner schedule sees <c>step − W</c> (it starts after the warm-up, as a
/// decay that must reach its end at a total step count does) and r₀ = inner(0); otherwise it sees the raw step and
/// r₀ = inner(W). This is Hugging Face's warm-up convention (rate 0 at the first update).
/// </summary>
/// <param name="Inner">The schedule after the warm-up.</param>
/// <param name="WarmupSteps">Length of the ramp (0 disables it).</param>
/// <param name="ShiftInner">Whether the inner schedule's step count starts at the end of the warm-up.</param>
public sealed record WarmupSchedule(ILearningRateSchedule Inner, long WarmupSteps, bool ShiftInner = true)
    : ILearningRateSchedule
{
    /// <inheritdoc/>
    public double LearningRate(long step)
    {
        if (step >= WarmupSteps)
            return Inner.LearningRate(ShiftInner ? step - WarmupSteps : step);
        var top = Inner.LearningRate(ShiftInner ? 0 : WarmupSteps);
        return top * Math.Max(step, 0) / WarmupSteps;
    }
}

/// <summary>An arbitrary function of the step, for experiments.</summary>
/// <param name="Function">step → learning rate.</param>
public sealed record LambdaSchedule(Func<long, double> Function) : ILearningRateSchedule
{
    /// <inheritdoc/>
    public double LearningRate(long step) => Function(step);
}

/// <summary>The schedules training runs use, by name.</summary>
public static class LearningRateSchedules
{
    /// <summary>A constant rate (CoLT5 fine-tuning: 1e-3).</summary>
    public static ILearningRateSchedule Constant(double value) => new ConstantSchedule(value);

    /// <summary>T5.1.1 pre-training: <paramref name="scale"/> / √max(step, <paramref name="warmupSteps"/>).</summary>
    public static ILearningRateSchedule T5Rsqrt(double scale = 1.0, long warmupSteps = 10_000) =>
        new RsqrtSchedule(scale, warmupSteps);

    /// <summary>
    /// Linear warm-up from 0 to <paramref name="peak"/> over <paramref name="warmupSteps"/>, then linear decay to
    /// <paramref name="end"/> at <paramref name="totalSteps"/> (Hugging Face's <c>linear</c> schedule).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The total does not exceed the warm-up.</exception>
    public static ILearningRateSchedule LinearWarmupLinearDecay(double peak, long warmupSteps, long totalSteps,
        double end = 0)
    {
        CheckSteps(warmupSteps, totalSteps);
        return Warm(new LinearSchedule(peak, end, totalSteps - warmupSteps), warmupSteps);
    }

    /// <summary>
    /// Linear warm-up from 0 to <paramref name="peak"/> over <paramref name="warmupSteps"/>, then a half cosine to
    /// <paramref name="final"/> at <paramref name="totalSteps"/> (Hugging Face's <c>cosine</c> schedule, plus a floor).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The total does not exceed the warm-up.</exception>
    public static ILearningRateSchedule CosineWithWarmup(double peak, long warmupSteps, long totalSteps,
        double final = 0)
    {
        CheckSteps(warmupSteps, totalSteps);
        return Warm(new CosineSchedule(peak, totalSteps - warmupSteps, final), warmupSteps);
    }

    /// <summary>A linear ramp from 0 in front of <paramref name="inner"/> (see <see cref="WarmupSchedule"/>).</summary>
    public static ILearningRateSchedule WithWarmup(ILearningRateSchedule inner, long warmupSteps,
        bool shiftInner = true) => new WarmupSchedule(inner, warmupSteps, shiftInner);

    private static ILearningRateSchedule Warm(ILearningRateSchedule inner, long warmupSteps) =>
        warmupSteps > 0 ? new WarmupSchedule(inner, warmupSteps) : inner;

    private static void CheckSteps(long warmupSteps, long totalSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        if (totalSteps <= warmupSteps)
            throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps,
                $"the total step count must exceed the warm-up ({warmupSteps})");
    }
}
