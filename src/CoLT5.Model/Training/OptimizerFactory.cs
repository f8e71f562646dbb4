// Builds a run's optimizer and learning-rate schedule from its TrainingOptions, over the parameters in a fixed
// (name-sorted) order so that a model built fresh and one loaded from a checkpoint step identically.
using System;
using System.Collections.Generic;
using System.Linq;
using CoLT5.Nn.Optim;
using CoLT5.Tensors;

namespace CoLT5.Model.Training;

/// <summary>Optimizers and schedules from <see cref="TrainingOptions"/>.</summary>
public static class OptimizerFactory
{
    /// <summary>The schedule the options describe (see <see cref="ScheduleKind"/>); warm-up ramps from 0.</summary>
    public static ILearningRateSchedule Schedule(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Resolved();
        var total = o.DecaySteps!.Value;
        return o.Schedule switch
        {
            ScheduleKind.Constant => o.WarmupSteps > 0
                ? LearningRateSchedules.WithWarmup(LearningRateSchedules.Constant(o.LearningRate), o.WarmupSteps)
                : LearningRateSchedules.Constant(o.LearningRate),
            ScheduleKind.Linear => LearningRateSchedules.LinearWarmupLinearDecay(o.LearningRate, o.WarmupSteps, total),
            ScheduleKind.Cosine => LearningRateSchedules.CosineWithWarmup(o.LearningRate, o.WarmupSteps, total),
            ScheduleKind.Rsqrt => LearningRateSchedules.T5Rsqrt(o.LearningRate * Math.Sqrt(Math.Max(1, o.WarmupSteps)),
                Math.Max(1, o.WarmupSteps)),
            _ => throw new ArgumentException($"unknown schedule {o.Schedule}", nameof(options)),
        };
    }

    /// <summary>The optimizer the options describe over <paramref name="parameters"/>, sorted by name.</summary>
    public static IOptimizer Create(TrainingOptions options, IEnumerable<(string Name, Tensor Tensor)> parameters)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(parameters);
        // A fixed order: the global gradient norm sums parameters in this order, and a loaded checkpoint lists
        // its tensors in file order, not creation order.
        var ordered = parameters.OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
        var schedule = Schedule(options);
        var biasScale = options.PositionBiasLearningRateScale;
        Func<string, double>? scale = biasScale == 1 ? null : name => IsPositionBias(name) ? biasScale : 1;
        return options.Optimizer switch
        {
            OptimizerKind.Adafactor => new Adafactor(ordered, schedule) { LearningRateScale = scale },
            OptimizerKind.AdamW => new AdamW(ordered, schedule)
            {
                WeightDecay = options.WeightDecay,
                LearningRateScale = scale,
            },
            _ => throw new ArgumentException($"unknown optimizer {options.Optimizer}", nameof(options)),
        };
    }

    /// <summary>Whether <paramref name="name"/> is a relative position bias table (HF name
    /// <c>relative_attention_bias</c>, in every encoder type and the decoder).</summary>
    public static bool IsPositionBias(string name) =>
        name.Contains("relative_attention_bias", StringComparison.Ordinal);
}
