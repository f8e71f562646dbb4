// Global-norm gradient clipping with torch.nn.utils.clip_grad_norm_ semantics, written with tensor ops so the
// gradients never leave their device (only the returned norm is read back).
using System;
using System.Collections.Generic;
using System.Linq;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;

namespace CoLT5.Nn.Optim;

/// <summary>Gradient-norm measurement and clipping over a set of parameters.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Clips the gradients of <paramref name="parameters"/> in place by their global L2 norm, as PyTorch's
    /// <c>clip_grad_norm_</c>: with N = √(Σ over all gradients of Σ g²), every gradient is multiplied by
    /// min(1, maxNorm / (N + 1e-6)). Parameters without a gradient are ignored.
    /// </summary>
    /// <returns>N, the norm before clipping (0 when no parameter has a gradient; NaN or ∞ pass through).</returns>
    public static double ClipGradNorm(IReadOnlyList<(string Name, Tensor Tensor)> parameters, double maxNorm) =>
        ClipGradNorm(parameters.Select(p => p.Tensor), maxNorm);

    /// <inheritdoc cref="ClipGradNorm(IReadOnlyList{ValueTuple{string, Tensor}}, double)"/>
    public static double ClipGradNorm(IEnumerable<Tensor> parameters, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfNegative(maxNorm);
        var grads = Gradients(parameters);
        if (grads.Count == 0)
            return 0;
        using var noGrad = Tensor.NoGrad();
        using var scope = DisposeScope.Enter();
        var norm = Norm(grads);
        var limit = Tensor.Scalar(maxNorm, norm.DType, norm.Device);
        var coefficient = (limit / (norm + 1e-6)).Clamp(max: 1);
        foreach (var g in grads)
        {
            if (g.DType == coefficient.DType)
                g.MulInPlace(coefficient);
            else
                g.MulInPlace(coefficient.To(g.DType));
        }
        return norm.Item();
    }

    /// <summary>The global L2 norm √(Σ g²) over the gradients of <paramref name="parameters"/> (0 when none has
    /// one), without changing them.</summary>
    public static double GradNorm(IEnumerable<Tensor> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var grads = Gradients(parameters);
        if (grads.Count == 0)
            return 0;
        using var noGrad = Tensor.NoGrad();
        using var scope = DisposeScope.Enter();
        return Norm(grads).Item();
    }

    private static List<Tensor> Gradients(IEnumerable<Tensor> parameters) =>
        parameters.Select(p => p.Grad).OfType<Tensor>().ToList();

    // Sums the squares in the first gradient's dtype (float32 for the model), on its device.
    private static Tensor Norm(List<Tensor> grads)
    {
        var dtype = grads[0].DType;
        Tensor? total = null;
        foreach (var g in grads)
        {
            var squares = g.Square().Sum();
            if (squares.DType != dtype)
                squares = squares.To(dtype);
            total = total is null ? squares : total + squares;
        }
        return total!.Sqrt();
    }
}
