// Base of every layer: a train/eval switch that propagates to children. Parameters live in a ParameterStore.
using System.Collections.Generic;

namespace CoLT5.Nn.Modules;

/// <summary>A layer. Parameters belong to the <see cref="ParameterStore"/> they came from, not to the module.</summary>
public abstract class Module
{
    private readonly List<Module> children = [];

    /// <summary>True in training mode (dropout active, router k' = 9/8·k), false in evaluation mode.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>Registers a child so mode switches reach it; returns it.</summary>
    protected T Own<T>(T child) where T : Module
    {
        children.Add(child);
        return child;
    }

    /// <summary>Switches this module and its children to training or evaluation mode.</summary>
    public void Train(bool training = true)
    {
        Training = training;
        foreach (var c in children)
            c.Train(training);
    }

    /// <summary>Evaluation mode.</summary>
    public void Eval() => Train(false);
}
