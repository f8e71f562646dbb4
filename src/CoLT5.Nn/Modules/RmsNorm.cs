// T5's layer norm: scale only, no centring, no bias — y = w · x / √(mean(x²) + ε).
using CoLT5.Tensors;

namespace CoLT5.Nn.Modules;

/// <summary>RMSNorm over the last dimension with a learned scale (checkpoint name "prefix.weight").</summary>
public sealed class RmsNorm(ParameterBuilder p, int dim, double eps = 1e-6) : Module
{
    /// <summary>The (dim) scale, initialised to ones.</summary>
    public Tensor Weight { get; } = p.Get("weight", new Shape(dim), Init.Ones);

    /// <summary>ε inside the square root.</summary>
    public double Eps { get; } = eps;

    /// <summary>(..., dim) → (..., dim).</summary>
    public Tensor Forward(Tensor x) => x.RmsNorm(Weight, Eps);
}
