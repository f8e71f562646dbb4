// The contract every optimizer meets: step from the parameters' gradients, clear them, report the learning rate,
// and export / import its state so that a resumed run continues bit for bit.
using System;
using System.Collections.Generic;
using CoLT5.Tensors;

namespace CoLT5.Nn.Optim;

/// <summary>
/// A first-order optimizer over named parameters. The usual loop is: forward, <c>loss.Backward()</c>, optionally
/// <see cref="GradientClipping.ClipGradNorm(IEnumerable{Tensor}, double)"/>, <see cref="Step"/>,
/// <see cref="ZeroGrad"/>.
/// </summary>
public interface IOptimizer : IDisposable
{
    /// <summary>The parameters being optimised (names key the per-parameter state).</summary>
    IReadOnlyList<(string Name, Tensor Tensor)> Parameters { get; }

    /// <summary>Step → learning rate; replaceable between steps.</summary>
    ILearningRateSchedule Schedule { get; set; }

    /// <summary>The number of completed <see cref="Step"/> calls.</summary>
    long StepCount { get; }

    /// <summary>The learning rate the next <see cref="Step"/> will use:
    /// <c>Schedule.LearningRate(StepCount)</c>.</summary>
    double LearningRate { get; }

    /// <summary>
    /// Applies one update from every parameter's current <see cref="Tensor.Grad"/>. Parameters whose gradient is
    /// null are skipped entirely (no weight decay, no state change, their own step count unchanged).
    /// </summary>
    void Step();

    /// <summary>Sets every parameter's gradient to null (it is disposed).</summary>
    void ZeroGrad();

    /// <summary>A copy of the optimizer's state (the caller owns and disposes it).</summary>
    OptimizerState ExportState();

    /// <summary>Replaces the optimizer's state with a copy of <paramref name="state"/> (still owned by the
    /// caller).</summary>
    void ImportState(OptimizerState state);
}
