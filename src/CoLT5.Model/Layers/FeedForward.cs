// T5 feed-forward blocks: gated GELU (T5.1.1: wi_0, wi_1, wo) or ReLU (T5 1.0: wi, wo), no biases.
using CoLT5.Model.Configuration;
using CoLT5.Nn;
using CoLT5.Nn.Modules;
using CoLT5.Tensors;

namespace CoLT5.Model.Layers;

/// <summary>FF(x) = (GELU_tanh(x·W₀ᵀ) ⊙ x·W₁ᵀ)·Woᵀ, or ReLU(x·Wᵀ)·Woᵀ, with dropout on the hidden activations.</summary>
public sealed class FeedForward : Module
{
    private readonly Linear? wi, wi0, wi1;
    private readonly Linear wo;
    private readonly Dropout dropout;

    /// <summary>Creates the block under <paramref name="p"/> (Hugging Face names: wi or wi_0/wi_1, wo).</summary>
    public FeedForward(ParameterBuilder p, int dModel, int dFf, bool relu, Dropout dropout)
    {
        if (relu)
        {
            wi = Own(new Linear(p.Sub("wi"), dModel, dFf, System.Math.Pow(dModel, -0.5)));
        }
        else
        {
            wi0 = Own(new Linear(p.Sub("wi_0"), dModel, dFf, System.Math.Pow(dModel, -0.5)));
            wi1 = Own(new Linear(p.Sub("wi_1"), dModel, dFf, System.Math.Pow(dModel, -0.5)));
        }
        wo = Own(new Linear(p.Sub("wo"), dFf, dModel, System.Math.Pow(dFf, -0.5)));
        this.dropout = Own(dropout);
    }

    /// <summary>A block sized from the config's ReLU / gated-GELU choice.</summary>
    public FeedForward(ParameterBuilder p, ModelConfig config, int dFf, Dropout dropout)
        : this(p, config.DModel, dFf, config.ReluFeedForward, dropout)
    {
    }

    /// <summary>(..., d) → (..., d).</summary>
    public Tensor Forward(Tensor x)
    {
        using var hidden = Hidden(x);
        using var dropped = dropout.Forward(hidden);
        return wo.Forward(dropped);
    }

    private Tensor Hidden(Tensor x)
    {
        if (wi is not null)
        {
            using var pre = wi.Forward(x);
            return pre.Relu();
        }
        using var gate = wi0!.Forward(x);
        using var act = gate.GeluTanh();
        using var linear = wi1!.Forward(x);
        return act * linear;
    }
}
