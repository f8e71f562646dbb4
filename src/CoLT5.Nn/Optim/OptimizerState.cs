// An optimizer's checkpointable state: its kind, global step, per-parameter scalars and named state tensors.
using System;
using System.Collections.Generic;
using CoLT5.Tensors;

namespace CoLT5.Nn.Optim;

/// <summary>
/// Everything an optimizer needs to continue exactly where it stopped: <see cref="Kind"/> (which optimizer wrote it),
/// the global <see cref="Step"/>, <see cref="Scalars"/> (per-parameter step counts, named
/// <see cref="StepName"/>) and <see cref="Tensors"/> (moment estimates, named <see cref="TensorName"/>, e.g.
/// <c>exp_avg/encoder.block.0.layer.0.SelfAttention.q.weight</c>). Hyperparameters are not part of it: the run
/// that resumes constructs the optimizer from the same configuration. The object owns its tensors.
/// </summary>
public sealed class OptimizerState : IDisposable
{
    /// <summary>Wraps state read from a checkpoint; takes ownership of <paramref name="tensors"/>.</summary>
    public OptimizerState(string kind, long step, IReadOnlyDictionary<string, double> scalars,
        IReadOnlyList<(string Name, Tensor Tensor)> tensors)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(scalars);
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        Kind = kind;
        Step = step;
        Scalars = scalars;
        Tensors = tensors;
    }

    /// <summary>The optimizer that wrote the state ("adamw", "adafactor").</summary>
    public string Kind { get; }

    /// <summary>Completed optimizer steps (drives the learning-rate schedule).</summary>
    public long Step { get; }

    /// <summary>Per-parameter scalars: <c>step/NAME</c> is the number of updates parameter NAME received.</summary>
    public IReadOnlyDictionary<string, double> Scalars { get; }

    /// <summary>State tensors, named <c>SLOT/NAME</c>, with the shape and dtype the optimizer allocates.</summary>
    public IReadOnlyList<(string Name, Tensor Tensor)> Tensors { get; }

    /// <summary>The name of state slot <paramref name="slot"/> of parameter <paramref name="parameter"/>.</summary>
    public static string TensorName(string slot, string parameter) => slot + "/" + parameter;

    /// <summary>The scalar holding the update count of <paramref name="parameter"/>.</summary>
    public static string StepName(string parameter) => "step/" + parameter;

    /// <summary>Disposes the state tensors.</summary>
    public void Dispose()
    {
        foreach (var (_, tensor) in Tensors)
            tensor.Dispose();
    }
}
