// The CoLT5 router's normalisation: coordinate-descent soft top-k (ALIGNER / CoDA). Composed from tensor ops (the
// definition: autograd differentiates through every iteration), dispatching to the backend's fused kernel when any.
using System;
using CoLT5.Tensors;

namespace CoLT5.Nn.Functional;

/// <summary>Entropy-regularised soft top-k by coordinate ascent on the dual (spec §8).</summary>
public static partial class SoftTopK
{
    /// <summary>
    /// λ = exp((s + a + b)/ε) after <paramref name="iterations"/> rounds of
    /// a ← ε·(ln k − logsumexp((s + b)/ε)), b ← −relu(s + a), starting from a = 0, b = −s. With
    /// <paramref name="epsInit"/>, ε starts there and decays by <paramref name="epsDecay"/> per round down to
    /// <paramref name="eps"/>. Masked (false) positions get a score of −max and λ = 0. Runs the backend's fused
    /// kernel (<see cref="Fused(Tensor, Tensor?, double, double, int, double?, double)"/>) when it has one and the
    /// mask has the scores' shape, else <see cref="Composed(Tensor, Tensor?, double, double, int, double?, double)"/>;
    /// both give the same values and gradients to rounding.
    /// </summary>
    /// <param name="scores">Raw router scores s: (..., n).</param>
    /// <param name="mask">Optional bool (..., n); true = a real token.</param>
    /// <param name="k">The budget: λ sums to k at convergence.</param>
    /// <param name="eps">Target entropy weight ε.</param>
    /// <param name="iterations">Coordinate-ascent rounds.</param>
    /// <param name="epsInit">Optional starting ε for ε-scaling.</param>
    /// <param name="epsDecay">Factor applied to ε after each round (with ε-scaling).</param>
    public static Tensor CoordinateDescent(Tensor scores, Tensor? mask, double k, double eps, int iterations,
        double? epsInit = null, double epsDecay = 1.0)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        if (FusedEligible(scores, mask))
        {
            using var budget = Budget(scores, k);
            if (TryFused(scores, mask, budget, Params(eps, iterations, epsInit, epsDecay)) is { } lambda)
                return lambda;
        }
        return Composed(scores, mask, k, eps, iterations, epsInit, epsDecay);
    }

    /// <summary>
    /// <see cref="CoordinateDescent(Tensor, Tensor?, double, double, int, double?, double)"/> with one budget per
    /// row: <paramref name="k"/> has the scores' leading shape (or is flat with one entry per row), positive, and is
    /// a constant (no gradient reaches it).
    /// </summary>
    /// <inheritdoc cref="CoordinateDescent(Tensor, Tensor?, double, double, int, double?, double)"/>
    public static Tensor CoordinateDescent(Tensor scores, Tensor? mask, Tensor k, double eps, int iterations,
        double? epsInit = null, double epsDecay = 1.0)
    {
        ArgumentNullException.ThrowIfNull(scores);
        using var budget = Budget(scores, k);
        if (FusedEligible(scores, mask)
            && TryFused(scores, mask, budget, Params(eps, iterations, epsInit, epsDecay)) is { } lambda)
            return lambda;
        return ComposedCore(scores, mask, 0, budget, eps, iterations, epsInit, epsDecay);
    }

    /// <summary>The composed definition: the iterations as tensor ops, differentiated by autograd.</summary>
    /// <inheritdoc cref="CoordinateDescent(Tensor, Tensor?, double, double, int, double?, double)"/>
    public static Tensor Composed(Tensor scores, Tensor? mask, double k, double eps, int iterations,
        double? epsInit = null, double epsDecay = 1.0)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        return ComposedCore(scores, mask, k, null, eps, iterations, epsInit, epsDecay);
    }

    /// <summary>The composed definition with one budget per row (see the per-row
    /// <see cref="CoordinateDescent(Tensor, Tensor?, Tensor, double, int, double?, double)"/>).</summary>
    /// <inheritdoc cref="CoordinateDescent(Tensor, Tensor?, Tensor, double, int, double?, double)"/>
    public static Tensor Composed(Tensor scores, Tensor? mask, Tensor k, double eps, int iterations,
        double? epsInit = null, double epsDecay = 1.0)
    {
        ArgumentNullException.ThrowIfNull(scores);
        using var budget = Budget(scores, k);
        return ComposedCore(scores, mask, 0, budget, eps, iterations, epsInit, epsDecay);
    }

    // rowK: null for the scalar k, else (R) in the scores' dtype; ln k is then added per row as a (..., 1) tensor.
    private static Tensor ComposedCore(Tensor scores, Tensor? mask, double k, Tensor? rowK, double eps,
        int iterations, double? epsInit, double epsDecay)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(eps);
        var maskValue = scores.DType == DType.Float64 ? -double.MaxValue : -float.MaxValue;
        Tensor? notMask = mask is null ? null : mask.Eq(0);
        Tensor? rowLogK = null;
        try
        {
            var s = notMask is null ? scores.Contiguous() : scores.MaskedFill(notMask, maskValue);
            var logK = rowK is null ? Math.Log(k) : 0;
            if (rowK is not null)
            {
                using var noGrad = Tensor.NoGrad();
                using var column = rowK.Reshape([.. s.Shape.Dims[..^1], 1]);
                rowLogK = column.Log();
            }
            var current = Math.Max(epsInit ?? eps, eps);
            var a = Tensor.Zeros(new Shape([.. s.Shape.Dims[..^1], 1]), s.DType, s.Device);   // (..., 1)
            var b = s.Neg();
            for (var it = 0; it < iterations; it++)
            {
                using var sum = s + b;
                using var scaled = sum / current;
                using var sb = notMask is null ? scaled.Contiguous() : scaled.MaskedFill(notMask, maskValue);
                using var lse = sb.LogSumExp(-1, keepDim: true);
                using var negated = lse.Neg();
                using var shifted = rowLogK is null ? negated + logK : negated + rowLogK;
                a.Dispose();
                a = shifted * current;
                using var sa = s + a;
                using var relu = sa.Relu();
                b.Dispose();
                b = relu.Neg();
                current = Math.Max(current * epsDecay, eps);
            }
            using var sa2 = s + a;
            using var total = sa2 + b;
            using var logits = total / current;
            a.Dispose();
            b.Dispose();
            s.Dispose();
            var lambda = logits.Exp();
            if (notMask is null)
                return lambda;
            using (lambda)
                return lambda.MaskedFill(notMask, 0);
        }
        finally
        {
            notMask?.Dispose();
            rowLogK?.Dispose();
        }
    }
}
