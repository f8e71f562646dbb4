// Settings of the fused coordinate-descent soft top-k (the CoLT5 router's normalisation, spec §8): target ε,
// iteration count and the optional ε-scaling schedule, with the exact per-iteration ε every backend must use.
using System;

namespace CoLT5.Tensors.Backends;

/// <summary>
/// Parameters of <see cref="IBackend.TrySoftTopK"/>. Iteration t (1-based) uses ε_t with
/// ε_1 = max(<see cref="EpsInit"/>, <see cref="Eps"/>) (or <see cref="Eps"/> when <see cref="EpsInit"/> is NaN) and
/// ε_(t+1) = max(ε_t·<see cref="EpsDecay"/>, <see cref="Eps"/>), all in float64; the final
/// λ = exp((s + a + b)/ε_(T+1)) uses ε after the last decay step, as the composed reference does.
/// </summary>
/// <param name="Eps">Target entropy weight ε (&gt; 0).</param>
/// <param name="Iterations">Coordinate-ascent rounds T (≥ 0).</param>
/// <param name="EpsInit">Starting ε for ε-scaling; NaN for none (ε throughout).</param>
/// <param name="EpsDecay">Factor applied to ε after each round (&gt; 0; 1 for none).</param>
public readonly record struct SoftTopKParams(double Eps, int Iterations, double EpsInit = double.NaN,
    double EpsDecay = 1.0)
{
    /// <summary>Columns of the state tensor the forward writes for the backward: one a_t per iteration.</summary>
    public int StateLength => Iterations;

    /// <summary>
    /// The schedule ε_1 … ε_(T+1) (length <see cref="Iterations"/> + 1): entry t − 1 is the ε of iteration t, the
    /// last entry the ε of the final exponent.
    /// </summary>
    public double[] Schedule()
    {
        Validate();
        var eps = new double[Iterations + 1];
        var current = double.IsNaN(EpsInit) ? Eps : Math.Max(EpsInit, Eps);
        for (var t = 0; t <= Iterations; t++)
        {
            eps[t] = current;
            current = Math.Max(current * EpsDecay, Eps);
        }
        return eps;
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless ε &gt; 0, T ≥ 0, decay &gt; 0 and the
    /// starting ε (when given) is positive and finite.</summary>
    public void Validate()
    {
        if (!(Eps > 0) || double.IsInfinity(Eps))
            throw new ArgumentOutOfRangeException(nameof(Eps), Eps, "ε must be positive and finite");
        ArgumentOutOfRangeException.ThrowIfNegative(Iterations, nameof(Iterations));
        if (!(EpsDecay > 0) || double.IsInfinity(EpsDecay))
            throw new ArgumentOutOfRangeException(nameof(EpsDecay), EpsDecay, "the ε decay must be positive");
        if (!double.IsNaN(EpsInit) && (!(EpsInit > 0) || double.IsInfinity(EpsInit)))
            throw new ArgumentOutOfRangeException(nameof(EpsInit), EpsInit, "the starting ε must be positive");
    }
}
