// The thread-local switch that decides whether ops record autograd nodes.
using System;

namespace CoLT5.Tensors.Autograd;

/// <summary>Whether ops on this thread record the graph. Turn it off with <see cref="Tensor.NoGrad"/>.</summary>
public static class GradMode
{
    [ThreadStatic] private static int disabledDepth;

    /// <summary>True when new ops record autograd nodes on this thread.</summary>
    public static bool IsEnabled => disabledDepth == 0;

    internal static void Disable() => disabledDepth++;

    internal static void Restore() => disabledDepth--;
}

/// <summary>A region in which ops do not record the graph (inference, optimizer updates, gradient math).</summary>
public readonly struct NoGradScope : IDisposable
{
    private readonly bool active;

    internal NoGradScope(bool active)
    {
        this.active = active;
        if (active)
            GradMode.Disable();
    }

    /// <summary>Re-enables recording (if this scope disabled it).</summary>
    public void Dispose()
    {
        if (active)
            GradMode.Restore();
    }
}
