// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, with the exact update order of
// torch.optim.AdamW so that trajectories match PyTorch's to rounding.
using System;
using System.Collections.Generic;
using CoLT5.Tensors;

namespace CoLT5.Nn.Optim;

/// <summary>
/// AdamW with PyTorch's semantics (<c>torch.optim.AdamW</c>, <c>maximize=False</c>). For a parameter θ with
/// gradient g at its t-th update (t counts that parameter's own updates, from 1) and learning rate lr:
/// <code>
/// θ ← θ·(1 − lr·λ)                                  decoupled weight decay
/// m ← β₁·m + (1 − β₁)·g
/// v ← β₂·v + (1 − β₂)·g²
/// v̂ ← max(v̂, v)                                     only with AMSGrad (v̂ replaces v below)
/// θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
/// </code>
/// Defaults are PyTorch's: lr 1e-3, β = (0.9, 0.999), ε = 1e-8, λ = 0.01. State: <c>exp_avg</c> (m),
/// <c>exp_avg_sq</c> (v) and, with AMSGrad, <c>max_exp_avg_sq</c>, each shaped like the parameter.
/// </summary>
public sealed class AdamW : Optimizer
{
    private readonly double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = 0.01;

    /// <summary>AdamW over <paramref name="parameters"/> with a learning-rate schedule.</summary>
    public AdamW(IReadOnlyList<(string Name, Tensor Tensor)> parameters, ILearningRateSchedule schedule)
        : base(parameters, schedule)
    {
    }

    /// <summary>AdamW over <paramref name="parameters"/> with a constant learning rate.</summary>
    public AdamW(IReadOnlyList<(string Name, Tensor Tensor)> parameters, double learningRate = 1e-3)
        : base(parameters, new ConstantSchedule(learningRate))
    {
    }

    /// <inheritdoc/>
    public override string Kind => "adamw";

    /// <summary>β₁, the first-moment decay, in [0, 1). Default 0.9.</summary>
    public double Beta1
    {
        get => beta1;
        init => beta1 = CheckUnit(value, nameof(Beta1));
    }

    /// <summary>β₂, the second-moment decay, in [0, 1). Default 0.999.</summary>
    public double Beta2
    {
        get => beta2;
        init => beta2 = CheckUnit(value, nameof(Beta2));
    }

    /// <summary>ε added to the bias-corrected √v. Default 1e-8.</summary>
    public double Epsilon
    {
        get => epsilon;
        init => epsilon = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(Epsilon), value,
            "epsilon must be non-negative");
    }

    /// <summary>λ, the decoupled weight-decay coefficient (multiplied by the learning rate). Default 0.01.</summary>
    public double WeightDecay
    {
        get => weightDecay;
        init => weightDecay = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(WeightDecay), value,
            "weight decay must be non-negative");
    }

    /// <summary>Use the AMSGrad maximum of past second moments. Default false.</summary>
    public bool AmsGrad { get; init; }

    /// <summary>
    /// Which parameters weight decay applies to, by name (null: all, PyTorch's single parameter group). Training
    /// scripts commonly exclude norm scales: <c>name =&gt; !name.Contains("layer_norm")</c>.
    /// </summary>
    public Func<string, bool>? DecayFilter { get; init; }

    private protected override IEnumerable<(string Slot, Tensor Tensor)> CreateSlots(string name, Tensor parameter)
    {
        yield return ("exp_avg", Zeros(parameter, parameter.Shape));
        yield return ("exp_avg_sq", Zeros(parameter, parameter.Shape));
        if (AmsGrad)
            yield return ("max_exp_avg_sq", Zeros(parameter, parameter.Shape));
    }

    private protected override void Update(string name, Tensor parameter, Tensor grad, ParameterState state,
        double lr)
    {
        var m = state["exp_avg"];
        var v = state["exp_avg_sq"];
        var decay = DecayFilter is null || DecayFilter(name) ? weightDecay : 0;
        if (decay != 0)
            parameter.AffineInPlace(1 - lr * decay);

        // Temporaries are released as soon as they are used so that at most two parameter-sized ones are live.
        // Scaling a temporary and then adding it is bit-identical to AddInPlace(x, alpha), without its extra copy.
        m.AffineInPlace(beta1);
        m.AddInPlace(grad, 1 - beta1);
        v.AffineInPlace(beta2);
        using (var g2 = grad.Square())
        {
            g2.AffineInPlace(1 - beta2);
            v.AddInPlace(g2);
        }

        var second = v;
        if (AmsGrad)
        {
            var vMax = state["max_exp_avg_sq"];
            using (var larger = vMax.Maximum(v))
                vMax.CopyFrom(larger);
            second = vMax;
        }

        var t = (double)state.Step;
        var biasCorrection1 = 1 - Math.Pow(beta1, t);
        var biasCorrection2 = 1 - Math.Pow(beta2, t);
        var stepSize = lr / biasCorrection1;
        using var correction = Tensor.Scalar(Math.Sqrt(biasCorrection2), parameter.DType, parameter.Device);
        Tensor direction;
        using (var root = second.Sqrt())
        using (var denominator = root / correction)
        {
            denominator.AffineInPlace(1, epsilon);
            direction = m / denominator;
        }
        using (direction)
        {
            direction.AffineInPlace(-stepSize);
            parameter.AddInPlace(direction);
        }
    }

    private static double CheckUnit(double value, string name) =>
        value is >= 0 and < 1 ? value : throw new ArgumentOutOfRangeException(name, value, "must lie in [0, 1)");
}
