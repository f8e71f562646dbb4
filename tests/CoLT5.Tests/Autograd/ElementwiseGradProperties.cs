// Gradient properties of the elementwise ops against float64 finite differences, on random shapes with odd sizes
// and broadcasting.
using CoLT5.Tensors;
using CoLT5.Tests.Testing;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Autograd;

public sealed class ElementwiseGradProperties
{
    private static readonly FsCheck.Gen<(int[] A, int[] B, ulong Seed)> Pairs =
        from p in TensorGen.BroadcastablePair() from s in TensorGen.Seed select (p.A, p.B, s);

    private static readonly FsCheck.Gen<(int[] Shape, ulong Seed)> Singles =
        from shape in TensorGen.ShapeOf(3) from s in TensorGen.Seed select (shape, s);

    [Fact]
    public void Add() => Props.Check(Pairs, c =>
        Props.Grad(x => x[0] + x[1], TensorGen.Normal(c.A, c.Seed), TensorGen.Normal(c.B, c.Seed + 1)));

    [Fact]
    public void Sub() => Props.Check(Pairs, c =>
        Props.Grad(x => x[0] - x[1], TensorGen.Normal(c.A, c.Seed), TensorGen.Normal(c.B, c.Seed + 1)));

    [Fact]
    public void Mul() => Props.Check(Pairs, c =>
        Props.Grad(x => x[0] * x[1], TensorGen.Normal(c.A, c.Seed), TensorGen.Normal(c.B, c.Seed + 1)));

    [Fact]
    public void Div() => Props.Check(Pairs, c =>
        Props.Grad(x => x[0] / x[1], TensorGen.Normal(c.A, c.Seed), TensorGen.Positive(c.B, c.Seed + 1)));

    [Fact]
    public void MaximumAndMinimum() => Props.Check(Pairs, c =>
    {
        // distinct values keep every comparison away from a tie under the finite-difference step
        Props.Grad(x => x[0].Maximum(x[1]), TensorGen.Distinct(c.A, c.Seed), TensorGen.Distinct(c.B, c.Seed + 7));
        Props.Grad(x => x[0].Minimum(x[1]), TensorGen.Distinct(c.A, c.Seed), TensorGen.Distinct(c.B, c.Seed + 7));
    });

    [Fact]
    public void Where() => Props.Check(Pairs, c =>
    {
        using var a0 = TensorGen.Normal(c.A, c.Seed + 3);
        using var cond = a0.Gt(0);
        Props.Grad(x => Tensor.Where(cond, x[0], x[1]), TensorGen.Normal(c.A, c.Seed), TensorGen.Normal(c.B, c.Seed + 1));
    });

    [Fact]
    public void MaskedFill() => Props.Check(Singles, c =>
    {
        using var a0 = TensorGen.Normal(c.Shape, c.Seed + 3);
        using var mask = a0.Gt(0.5);
        Props.Grad(x => x[0].MaskedFill(mask, -3), TensorGen.Normal(c.Shape, c.Seed));
    });

    [Fact]
    public void SmoothUnaryOps() => Props.Check(Singles, c =>
    {
        Props.Grad(x => x[0].Neg(), TensorGen.Normal(c.Shape, c.Seed));
        Props.Grad(x => x[0].Exp(), TensorGen.Normal(c.Shape, c.Seed));
        Props.Grad(x => x[0].Tanh(), TensorGen.Normal(c.Shape, c.Seed));
        Props.Grad(x => x[0].Sigmoid(), TensorGen.Normal(c.Shape, c.Seed, scale: 3));
        Props.Grad(x => x[0].GeluTanh(), TensorGen.Normal(c.Shape, c.Seed, scale: 2));
        Props.Grad(x => x[0].Square(), TensorGen.Normal(c.Shape, c.Seed));
        Props.Grad(x => x[0].Affine(-1.5, 0.25), TensorGen.Normal(c.Shape, c.Seed));
        Props.Grad(x => x[0].Pow(3), TensorGen.Normal(c.Shape, c.Seed));
    });

    [Fact]
    public void PositiveDomainOps() => Props.Check(Singles, c =>
    {
        Props.Grad(x => x[0].Log(), TensorGen.Positive(c.Shape, c.Seed));
        Props.Grad(x => x[0].Sqrt(), TensorGen.Positive(c.Shape, c.Seed));
        Props.Grad(x => x[0].Rsqrt(), TensorGen.Positive(c.Shape, c.Seed));
        Props.Grad(x => x[0].Pow(2.5), TensorGen.Positive(c.Shape, c.Seed));
        Props.Grad(x => x[0].Pow(-1.5), TensorGen.Positive(c.Shape, c.Seed));
    });

    [Fact]
    public void KinkedOpsAwayFromKinks() => Props.Check(Singles, c =>
    {
        Props.Grad(x => x[0].Relu(), TensorGen.AwayFrom(c.Shape, c.Seed, 0));
        Props.Grad(x => x[0].Abs(), TensorGen.AwayFrom(c.Shape, c.Seed, 0));
        Props.Grad(x => x[0].Clamp(-0.5, 0.75), TensorGen.AwayFrom(c.Shape, c.Seed, -0.5, 0.75));
        Props.Grad(x => x[0].Clamp(min: 0.1), TensorGen.AwayFrom(c.Shape, c.Seed, 0.1));
    });
}
