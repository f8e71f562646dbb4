// Gradient properties of FNet's Fourier mixing against float64 central differences: the fused transform with its
// self-adjoint backward, the same backward over the composed DFT products, and autograd through the composed
// products themselves, on sizes with primes, odd lengths and powers of two, strided inputs included.
using CoLT5.Nn.Functional;
using CoLT5.Tests.Testing;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Autograd;

public sealed class FourierMixGradProperties
{
    private static readonly Gen<(int B, int N, int D, bool Ortho, ulong Seed)> Problems =
        from b in Gen.Choose(1, 2)
        from n in Gen.Elements(1, 2, 3, 5, 7, 8, 13, 16)
        from d in Gen.Elements(1, 2, 4, 6, 7, 11, 16)
        from ortho in Gen.Elements(true, false)
        from seed in TensorGen.Seed
        select (b, n, d, ortho, seed);

    [Fact]
    public void FusedTransform() => Props.Check(Problems, c =>
    {
        var scale = c.Ortho ? FourierMix.OrthoScale(c.N, c.D) : 1;
        Props.Grad(x => FourierMix.Forward(x[0], scale), TensorGen.Normal([c.B, c.N, c.D], c.Seed));
        Props.Grad(x => FourierMix.Forward(x[0].Transpose(1, 2), scale), TensorGen.Normal([c.B, c.D, c.N], c.Seed));
    });

    [Fact]
    public void SelfAdjointBackwardOverTheComposedProducts() => Props.Check(Problems, c =>
    {
        var scale = c.Ortho ? FourierMix.OrthoScale(c.N, c.D) : 1;
        var before = FourierMix.PreferFused;
        FourierMix.PreferFused = false;
        try
        {
            Props.Grad(x => FourierMix.Forward(x[0], scale), TensorGen.Normal([c.B, c.N, c.D], c.Seed));
        }
        finally
        {
            FourierMix.PreferFused = before;
        }
    });

    [Fact]
    public void AutogradThroughTheComposedProducts() => Props.Check(Problems, c =>
        Props.Grad(x => FourierMix.Composed(x[0], c.Ortho ? FourierMix.OrthoScale(c.N, c.D) : 1),
            TensorGen.Normal([c.B, c.N, c.D], c.Seed)));
}
