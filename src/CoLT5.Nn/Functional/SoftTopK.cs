// The CoLT5 router's normalisation: coordinate-descent soft top-k (ALIGNER / CoDA), composed from tensor ops so
// autograd differentiates through every iteration. The fused kernel of a later milestone is checked against it.
using System;
using CoLT5.Tensors;

namespace CoLT5.Nn.Functional;

/// <summary>Entropy-regularised soft top-k by coordinate ascent on the dual (spec §8).</summary>
public static class SoftTopK
{
    /// <summary>
    /// λ = exp((s + a + b)/ε) after <paramref name="iterations"/> rounds of
    /// a ← ε·(ln k − logsumexp((s + b)/ε)), b ← −relu(s + a), starting from a = 0, b = −s. With
    /// <paramref name="epsInit"/>, ε starts there and decays by <paramref name="epsDecay"/> per round down to
    /// <paramref name="eps"/>. Masked (false) positions get a score of −max and λ = 0.
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
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(eps);
        var maskValue = scores.DType == DType.Float64 ? -double.MaxValue : -float.MaxValue;
        Tensor? notMask = mask is null ? null : mask.Eq(0);
        try
        {
            var s = notMask is null ? scores.Contiguous() : scores.MaskedFill(notMask, maskValue);
            var logK = Math.Log(k);
            var current = Math.Max(epsInit ?? eps, eps);
            var a = Tensor.Zeros(new Shape([.. s.Shape.Dims[..^1], 1]), s.DType, s.Device);   // (..., 1)
            var b = s.Neg();
            for (var it = 0; it < iterations; it++)
            {
                using var sum = s + b;
                using var scaled = sum / current;
                using var sb = notMask is null ? scaled.Contiguous() : scaled.MaskedFill(notMask, maskValue);
                using var lse = sb.LogSumExp(-1, keepDim: true);
                using var shifted = lse.Neg() + logK;
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
        }
    }
}
