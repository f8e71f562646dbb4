// The shared optimizer machinery: parameter validation, lazily allocated per-parameter state, the step loop under
// NoGrad with a DisposeScope per parameter, ZeroGrad, and state export / import.
using System;
using System.Collections.Generic;
using System.Linq;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;

namespace CoLT5.Nn.Optim;

/// <summary>
/// Base class of the optimizers in this namespace. Per-parameter state (moment estimates) is allocated on a
/// parameter's first update, in the parameter's dtype and on its device, and afterwards only updated in place;
/// each update's temporaries live in a <see cref="DisposeScope"/> that ends with the update. Every update is written
/// with tensor ops only, so the same code runs on any backend. Subclasses live in this assembly.
/// </summary>
public abstract class Optimizer : IOptimizer
{
    private readonly ParameterState?[] states;
    private ILearningRateSchedule schedule;
    private bool disposed;

    /// <summary>Validates <paramref name="parameters"/> (float32 or float64, distinct names).</summary>
    /// <exception cref="ArgumentException">A name repeats or a parameter is not floating point.</exception>
    private protected Optimizer(IReadOnlyList<(string Name, Tensor Tensor)> parameters,
        ILearningRateSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(schedule);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in parameters)
        {
            ArgumentNullException.ThrowIfNull(tensor);
            if (!names.Add(name))
                throw new ArgumentException($"parameter '{name}' is listed twice", nameof(parameters));
            if (tensor.DType is not (DType.Float32 or DType.Float64))
                throw new ArgumentException($"parameter '{name}' is {tensor.DType.Name()}; the optimizers update " +
                    "float32 and float64 parameters", nameof(parameters));
        }
        Parameters = parameters.ToArray();
        states = new ParameterState?[Parameters.Count];
        this.schedule = schedule;
    }

    /// <inheritdoc/>
    public IReadOnlyList<(string Name, Tensor Tensor)> Parameters { get; }

    /// <inheritdoc/>
    public ILearningRateSchedule Schedule
    {
        get => schedule;
        set => schedule = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <inheritdoc/>
    public long StepCount { get; private set; }

    /// <summary>
    /// Per-parameter multiplier of the scheduled learning rate, by parameter name (null: 1 for all), like a
    /// parameter group with its own rate. It is part of the run's configuration, not of the exported state.
    /// </summary>
    public Func<string, double>? LearningRateScale { get; init; }

    /// <inheritdoc/>
    public double LearningRate => schedule.LearningRate(StepCount);

    /// <summary>The name recorded in exported state (<see cref="OptimizerState.Kind"/>).</summary>
    public abstract string Kind { get; }

    /// <inheritdoc/>
    public void Step()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var lr = LearningRate;
        using (Tensor.NoGrad())
        {
            for (var i = 0; i < Parameters.Count; i++)
            {
                var (name, parameter) = Parameters[i];
                if (parameter.Grad is not { } grad)
                    continue;
                var state = states[i] ??= NewState(name, parameter);
                state.Step++;
                using var scope = DisposeScope.Enter();
                Update(name, parameter, grad, state, LearningRateScale is { } scale ? lr * scale(name) : lr);
            }
        }
        StepCount++;
    }

    /// <inheritdoc/>
    public void ZeroGrad()
    {
        foreach (var (_, tensor) in Parameters)
            tensor.Grad = null;
    }

    /// <inheritdoc/>
    public OptimizerState ExportState()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var scalars = new Dictionary<string, double>(StringComparer.Ordinal);
        var tensors = new List<(string Name, Tensor Tensor)>();
        try
        {
            for (var i = 0; i < Parameters.Count; i++)
            {
                if (states[i] is not { } state)
                    continue;
                var name = Parameters[i].Name;
                scalars[OptimizerState.StepName(name)] = state.Step;
                foreach (var (slot, tensor) in state.Slots)
                    tensors.Add((OptimizerState.TensorName(slot, name), Copy(tensor)));
            }
        }
        catch
        {
            foreach (var (_, t) in tensors)
                t.Dispose();
            throw;
        }
        return new OptimizerState(Kind, StepCount, scalars, tensors);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The state was written by another kind of optimizer, names parameters this
    /// optimizer does not have, lacks or adds state slots (other hyperparameters), or has other shapes.</exception>
    public void ImportState(OptimizerState state)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentNullException.ThrowIfNull(state);
        if (!string.Equals(state.Kind, Kind, StringComparison.Ordinal))
            throw new ArgumentException($"the state was written by '{state.Kind}', not '{Kind}'", nameof(state));
        var byName = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in state.Tensors)
        {
            if (!byName.TryAdd(name, tensor))
                throw new ArgumentException($"state tensor '{name}' appears twice", nameof(state));
        }
        var known = new HashSet<string>(Parameters.Select(p => OptimizerState.StepName(p.Name)),
            StringComparer.Ordinal);
        foreach (var key in state.Scalars.Keys.Where(k => !known.Contains(k)))
            throw new ArgumentException($"state scalar '{key}' belongs to no parameter of this optimizer",
                nameof(state));

        // Build the new state completely before replacing the old, so a bad checkpoint changes nothing.
        var fresh = new ParameterState?[Parameters.Count];
        var used = 0;
        try
        {
            for (var i = 0; i < Parameters.Count; i++)
            {
                var (name, parameter) = Parameters[i];
                if (!state.Scalars.TryGetValue(OptimizerState.StepName(name), out var step))
                    continue;
                if (step < 0 || step != Math.Floor(step))
                    throw new ArgumentException($"step count {step} of '{name}' is not a whole number",
                        nameof(state));
                var s = fresh[i] = NewState(name, parameter);
                s.Step = (long)step;
                foreach (var (slot, tensor) in s.Slots)
                {
                    var key = OptimizerState.TensorName(slot, name);
                    if (!byName.TryGetValue(key, out var source))
                        throw new ArgumentException($"state tensor '{key}' is missing (was the checkpoint written " +
                            "with other hyperparameters?)", nameof(state));
                    if (source.Shape != tensor.Shape)
                        throw new ArgumentException($"state tensor '{key}' has shape {source.Shape}, expected " +
                            $"{tensor.Shape}", nameof(state));
                    using (Tensor.NoGrad())
                        tensor.CopyFrom(source);
                    used++;
                }
            }
            if (used != byName.Count)
                throw new ArgumentException($"the state has {byName.Count - used} tensor(s) this optimizer does not " +
                    "use (another configuration?)", nameof(state));
        }
        catch
        {
            foreach (var s in fresh)
                s?.Dispose();
            throw;
        }
        for (var i = 0; i < states.Length; i++)
        {
            states[i]?.Dispose();
            states[i] = fresh[i];
        }
        StepCount = state.Step;
    }

    /// <summary>Releases the state tensors (not the parameters).</summary>
    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        foreach (var s in states)
            s?.Dispose();
        Array.Clear(states);
        GC.SuppressFinalize(this);
    }

    /// <summary>Number of state elements currently allocated for the parameter <paramref name="name"/> (0 before
    /// its first update).</summary>
    public long StateElementCount(string name)
    {
        var i = IndexOf(name);
        return states[i]?.Slots.Sum(s => s.Tensor.NumElements) ?? 0;
    }

    /// <summary>The number of updates parameter <paramref name="name"/> has received.</summary>
    public long ParameterStepCount(string name) => states[IndexOf(name)]?.Step ?? 0;

    /// <summary>Allocates the zeroed state slots of one parameter.</summary>
    private protected abstract IEnumerable<(string Slot, Tensor Tensor)> CreateSlots(string name, Tensor parameter);

    /// <summary>One in-place update. Runs under NoGrad, inside a DisposeScope, after <c>state.Step</c> was
    /// incremented (so it is 1 on the first update).</summary>
    private protected abstract void Update(string name, Tensor parameter, Tensor grad, ParameterState state,
        double lr);

    /// <summary>Zeros of <paramref name="shape"/> in the parameter's dtype, on its device.</summary>
    private protected static Tensor Zeros(Tensor parameter, Shape shape) =>
        Tensor.Zeros(shape, parameter.DType, parameter.Device);

    private ParameterState NewState(string name, Tensor parameter)
    {
        // Allocated outside any per-update scope; detached from whatever scope the caller has open.
        var slots = new List<(string Slot, Tensor Tensor)>();
        foreach (var (slot, tensor) in CreateSlots(name, parameter))
        {
            DisposeScope.Current?.Detach(tensor);
            slots.Add((slot, tensor));
        }
        return new ParameterState(slots);
    }

    private static Tensor Copy(Tensor source)
    {
        var copy = Tensor.Empty(source.Shape, source.DType, source.Device);
        DisposeScope.Current?.Detach(copy);
        copy.CopyFrom(source);
        return copy;
    }

    private int IndexOf(string name)
    {
        for (var i = 0; i < Parameters.Count; i++)
        {
            if (string.Equals(Parameters[i].Name, name, StringComparison.Ordinal))
                return i;
        }
        throw new ArgumentException($"no parameter '{name}'", nameof(name));
    }

    /// <summary>The state of one parameter: its update count and its named slots.</summary>
    private protected sealed class ParameterState(List<(string Slot, Tensor Tensor)> slots) : IDisposable
    {
        /// <summary>Updates received (1-based inside <see cref="Update"/>).</summary>
        public long Step { get; set; }

        /// <summary>The state tensors, in a fixed order.</summary>
        public List<(string Slot, Tensor Tensor)> Slots { get; } = slots;

        /// <summary>The slot called <paramref name="slot"/>.</summary>
        public Tensor this[string slot]
        {
            get
            {
                foreach (var (s, t) in Slots)
                {
                    if (string.Equals(s, slot, StringComparison.Ordinal))
                        return t;
                }
                throw new KeyNotFoundException($"no state slot '{slot}'");
            }
        }

        /// <summary>Disposes the slots.</summary>
        public void Dispose()
        {
            foreach (var (_, t) in Slots)
                t.Dispose();
        }
    }
}
