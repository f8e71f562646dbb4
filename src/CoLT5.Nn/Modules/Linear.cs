// y = x·Wᵀ with a bias-free (out, in) weight, as every T5 projection; the weight's checkpoint name is "<prefix>.weight".
using CoLT5.Tensors;

namespace CoLT5.Nn.Modules;

/// <summary>A bias-free linear map. Weight: (out, in), PyTorch layout.</summary>
public sealed class Linear : Module
{
    /// <summary>Creates (or finds) <c>prefix.weight</c> of shape (<paramref name="outFeatures"/>, <paramref name="inFeatures"/>).</summary>
    public Linear(ParameterBuilder p, int inFeatures, int outFeatures, double initStd)
    {
        Weight = p.Get("weight", new Shape(outFeatures, inFeatures), Init.Normal(initStd));
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
    }

    /// <summary>The (out, in) weight.</summary>
    public Tensor Weight { get; }

    /// <summary>Input width.</summary>
    public int InFeatures { get; }

    /// <summary>Output width.</summary>
    public int OutFeatures { get; }

    /// <summary>(..., in) → (..., out).</summary>
    public Tensor Forward(Tensor x) => Tensor.MatMul(x, Weight, transposeB: true);
}
