// Base of every autograd node: the inputs that need gradients, the tensors saved for the backward, and release.
using System;
using System.Collections.Generic;

namespace CoLT5.Tensors.Autograd;

/// <summary>
/// One recorded op. <see cref="Backward"/> maps the gradient of the op's output to gradients of its inputs
/// (null where an input needs none). Subclasses save what they need with <see cref="Save"/>; saved tensors are
/// private aliases, so disposing the user's tensors never frees memory the backward still reads.
/// </summary>
public abstract class GradFn
{
    private readonly List<(Tensor Alias, int Version)> saved = [];

    /// <summary>Records the op's inputs (only those that require gradients are kept).</summary>
    protected GradFn(params ReadOnlySpan<Tensor?> inputs)
    {
        Inputs = new Tensor?[inputs.Length];
        for (var i = 0; i < inputs.Length; i++)
            Inputs[i] = inputs[i] is { RequiresGrad: true } t ? t : null;
    }

    /// <summary>A short name for messages ("MulBackward").</summary>
    public virtual string Name => GetType().Name;

    /// <summary>The inputs that receive gradients, positionally matching <see cref="Backward"/>'s result.</summary>
    internal Tensor?[] Inputs { get; private set; }

    /// <summary>True after the graph was freed (by <c>Backward</c> or the scope that created it).</summary>
    internal bool IsReleased { get; private set; }

    /// <summary>True when input <paramref name="i"/> needs a gradient.</summary>
    protected bool NeedsGrad(int i) => Inputs[i] is not null;

    /// <summary>Computes input gradients from the output gradient (runs with recording off).</summary>
    public abstract Tensor?[] Backward(Tensor grad);

    /// <summary>Keeps a private reference to <paramref name="tensor"/> for the backward.</summary>
    protected Tensor Save(Tensor tensor)
    {
        var alias = tensor.Alias();
        alias.OwnerScope = null;                 // owned by this node, not by whatever scope is open now
        saved.Add((alias, alias.StorageVersion));
        return alias;
    }

    /// <summary>Throws if a saved tensor was modified in place after it was saved.</summary>
    internal void CheckSavedVersions()
    {
        foreach (var (alias, version) in saved)
        {
            if (alias.StorageVersion != version)
                throw new AutogradException(Name,
                    $"a tensor of shape {alias.Shape} saved for the backward was modified in place afterwards");
        }
    }

    /// <summary>Drops saved tensors and input links; the node can no longer run.</summary>
    internal void Release()
    {
        if (IsReleased)
            return;
        IsReleased = true;
        foreach (var (alias, _) in saved)
            alias.Dispose();
        saved.Clear();
        Inputs = [];
    }
}
