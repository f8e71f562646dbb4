// Scoped ownership of intermediates: tensors created inside a scope are disposed when it ends.
using System;
using System.Collections.Generic;
using System.Linq;

namespace CoLT5.Tensors.Memory;

/// <summary>
/// Collects every tensor created on this thread while the scope is innermost and disposes them when the scope is
/// disposed, except those moved out with <see cref="Detach"/> or <see cref="MoveToOuter"/>. Scopes nest. A training
/// step typically runs inside one: <c>using var scope = DisposeScope.Enter();</c>.
/// </summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] private static DisposeScope? current;

    private readonly List<Tensor> tensors = [];
    private readonly DisposeScope? outer;
    private bool disposed;

    private DisposeScope(DisposeScope? outer) => this.outer = outer;

    /// <summary>The innermost scope on this thread, if any.</summary>
    public static DisposeScope? Current => current;

    /// <summary>Opens a new innermost scope on this thread.</summary>
    public static DisposeScope Enter() => current = new DisposeScope(current);

    /// <summary>Number of live tensors this scope currently owns.</summary>
    public int Count => tensors.Count(t => t.OwnerScope == this && !t.IsDisposed);

    internal static void Track(Tensor tensor)
    {
        var scope = current;
        if (scope is null)
            return;
        tensor.OwnerScope = scope;
        scope.tensors.Add(tensor);
    }

    /// <summary>Removes a tensor from this scope: the caller now owns it.</summary>
    public Tensor Detach(Tensor tensor)
    {
        if (tensor.OwnerScope == this)
            tensor.OwnerScope = null;
        return tensor;
    }

    /// <summary>Hands a tensor to the enclosing scope (or to the caller when there is none).</summary>
    public Tensor MoveToOuter(Tensor tensor)
    {
        if (tensor.OwnerScope != this)
            return tensor;
        tensor.OwnerScope = outer;
        outer?.tensors.Add(tensor);
        return tensor;
    }

    /// <summary>
    /// Disposes every tensor still owned and pops the scope. Autograd nodes are not touched: a tensor returned from
    /// the scope may still need them; its graph is freed by <c>Backward</c> (or collected with it).
    /// </summary>
    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        foreach (var tensor in tensors)
        {
            if (tensor.OwnerScope == this)
                tensor.Dispose();
        }
        tensors.Clear();
        if (current == this)
            current = outer;
    }
}
