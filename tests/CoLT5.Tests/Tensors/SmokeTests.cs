// First end-to-end checks of the tensor layer on the CPU backend.
using CoLT5.Tensors;
using Xunit;

namespace CoLT5.Tests.Tensors;

public sealed class SmokeTests
{
    [Fact]
    public void AddBroadcastsAndBackpropagates()
    {
        using var a = Tensor.FromArray(new double[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        using var b = Tensor.FromArray(new double[] { 10, 20, 30 }, 3);
        a.RequiresGrad = true;
        b.RequiresGrad = true;
        using var y = a * b + a;
        using var loss = y.Sum();
        loss.Backward();
        Assert.Equal(new double[] { 11, 42, 93, 44, 105, 186 }, y.ToArray<double>());
        Assert.Equal(new double[] { 11, 21, 31, 11, 21, 31 }, a.Grad!.ToArray<double>());
        Assert.Equal(new double[] { 5, 7, 9 }, b.Grad!.ToArray<double>());
    }

    [Fact]
    public void MatMulMatchesHandComputed()
    {
        using var a = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        using var b = Tensor.FromArray(new float[] { 1, 0, 0, 1, 1, 1 }, 3, 2);
        using var c = a.MatMul(b);
        Assert.Equal(new float[] { 4, 5, 10, 11 }, c.ToArray<float>());
    }
}
