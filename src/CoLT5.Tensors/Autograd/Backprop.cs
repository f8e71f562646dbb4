// The reverse-mode engine: topological order over the recorded nodes, gradient accumulation, graph release.
using System;
using System.Collections.Generic;
using CoLT5.Tensors.Memory;

namespace CoLT5.Tensors.Autograd;

/// <summary>Runs the backward pass from a root tensor (Kahn order over the nodes reachable from it).</summary>
internal static class Backprop
{
    public static void Run(Tensor root, Tensor? seed, bool retainGraph)
    {
        if (root.GradFn is null)
        {
            if (!root.RequiresGrad)
                throw new AutogradException("backward", $"tensor of shape {root.Shape} does not require grad " +
                    "and has no graph: nothing to differentiate");
        }
        if (seed is null && root.NumElements != 1)
            throw new AutogradException("backward", $"an implicit gradient needs a single-element output, " +
                $"got shape {root.Shape}; pass the output gradient explicitly");
        if (seed is not null && seed.Shape != root.Shape)
            throw new ShapeMismatchException("backward", root.Shape, seed.Shape,
                "the gradient must have the output's shape");

        using var noGrad = new NoGradScope(true);
        using var scope = DisposeScope.Enter();
        var rootGrad = seed is null ? Tensor.OnesLike(root) : seed.Alias();
        if (root.GradFn is null)
        {
            AccumulateLeaf(root, rootGrad, scope);
            return;
        }

        var dependencies = CountDependencies(root.GradFn);
        var pending = new Dictionary<GradFn, Tensor> { [root.GradFn] = rootGrad };
        var ready = new Stack<GradFn>();
        ready.Push(root.GradFn);
        while (ready.Count > 0)
        {
            var node = ready.Pop();
            if (!pending.Remove(node, out var grad))
            {
                // Every consumer is done and none sent a gradient: the node contributes nothing, but its inputs'
                // counts must still drop, or a node reachable along another path would wait forever (and the
                // gradient it did receive would be lost).
                foreach (var input in node.Inputs)
                {
                    if (input?.GradFn is { } skipped && --dependencies[skipped] == 0)
                        ready.Push(skipped);
                }
                if (!retainGraph)
                    node.Release();
                continue;
            }
            if (node.IsReleased)
                throw new AutogradException(node.Name, "the graph was already freed by a previous Backward; " +
                    "pass retainGraph: true to backward twice");
            node.CheckSavedVersions();

            var inputs = node.Inputs;
            Tensor?[] grads;
            using (var nodeScope = DisposeScope.Enter())
            {
                grads = node.Backward(grad);
                for (var i = 0; i < grads.Length; i++)
                {
                    if (grads[i] is not { } g)
                        continue;
                    // Own every returned gradient separately, even when a node hands back its input or one
                    // tensor twice: an alias shares storage, and each alias is released exactly once.
                    if (ReferenceEquals(g, grad) || Array.IndexOf(grads, g) < i || g.OwnerScope != nodeScope)
                        g = g.Alias();
                    grads[i] = nodeScope.MoveToOuter(g);
                }
            }
            if (grads.Length != inputs.Length)
                throw new AutogradException(node.Name, $"backward returned {grads.Length} gradients " +
                    $"for {inputs.Length} inputs");
            grad.Dispose();

            for (var i = 0; i < inputs.Length; i++)
            {
                var input = inputs[i];
                var g = grads[i];
                if (input is null)
                {
                    g?.Dispose();
                    continue;
                }
                if (g is not null && (g.Shape != input.Shape || g.DType != input.DType))
                    throw new AutogradException(node.Name, $"gradient {g.DType.Name()} {g.Shape} does not match " +
                        $"input {i} ({input.DType.Name()} {input.Shape})");
                if (input.GradFn is { } child)
                {
                    if (g is not null)
                    {
                        if (pending.TryGetValue(child, out var sum))
                        {
                            pending[child] = sum + g;
                            sum.Dispose();
                            g.Dispose();
                        }
                        else
                        {
                            pending[child] = g;
                        }
                    }
                    if (--dependencies[child] == 0)
                        ready.Push(child);
                }
                else if (g is not null)
                {
                    AccumulateLeaf(input, g, scope);
                }
            }
            if (!retainGraph)
                node.Release();
        }
    }

    private static Dictionary<GradFn, int> CountDependencies(GradFn root)
    {
        var counts = new Dictionary<GradFn, int> { [root] = 0 };
        var stack = new Stack<GradFn>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            foreach (var input in node.Inputs)
            {
                if (input?.GradFn is not { } child)
                    continue;
                if (counts.TryGetValue(child, out var c))
                {
                    counts[child] = c + 1;
                }
                else
                {
                    counts[child] = 1;
                    stack.Push(child);
                }
            }
        }
        return counts;
    }

    private static void AccumulateLeaf(Tensor leaf, Tensor grad, DisposeScope scope)
    {
        if (leaf.Grad is null)
        {
            var owned = grad.IsContiguous ? grad : grad.Contiguous();
            if (!ReferenceEquals(owned, grad))
                grad.Dispose();
            leaf.Grad = scope.Detach(owned);
        }
        else
        {
            leaf.Grad.AddInPlace(grad);
            grad.Dispose();
        }
    }
}
