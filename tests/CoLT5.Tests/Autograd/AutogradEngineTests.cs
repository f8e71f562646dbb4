// The reverse-mode engine's contract: accumulation into leaves, no-grad scopes, graph release, retain_graph,
// detach, the saved-tensor version check, and analytic gradients (candle style: dy/dx written out).
using System;
using CoLT5.Tensors;
using Xunit;

namespace CoLT5.Tests.Autograd;

public sealed class AutogradEngineTests
{
    private static Tensor Leaf(params double[] values)
    {
        var t = Tensor.FromArray(values);
        t.RequiresGrad = true;
        return t;
    }

    [Fact]
    public void AValueUsedTwiceGetsTheSumOfBothPaths()
    {
        // y = x·x + 3x  ⇒  dy/dx = 2x + 3
        using var x = Leaf(1.5, -2);
        using var y = (x * x + x * 3.0).Sum();
        y.Backward();
        Assert.Equal(new[] { 6.0, -1.0 }, x.Grad!.ToArray<double>());
    }

    [Fact]
    public void GradientsAccumulateAcrossBackwardCalls()
    {
        using var x = Leaf(2);
        using (var y = (x * x).Sum())
            y.Backward();
        using (var y = (x * 5.0).Sum())
            y.Backward();
        Assert.Equal(new[] { 4.0 + 5.0 }, x.Grad!.ToArray<double>());
    }

    [Fact]
    public void NoGradScopeRecordsNothing()
    {
        using var x = Leaf(1, 2);
        using (Tensor.NoGrad())
        {
            using var y = x * 2.0;
            Assert.False(y.RequiresGrad);
            Assert.True(y.IsLeaf);
        }
        using var z = x * 2.0;
        Assert.True(z.RequiresGrad);
    }

    [Fact]
    public void BackwardFreesTheGraphUnlessRetained()
    {
        using var x = Leaf(3);
        using var y = (x.Exp() * x).Sum();
        y.Backward(retainGraph: true);
        y.Backward();
        // d(x·eˣ)/dx = eˣ(1 + x), accumulated twice
        Assert.Equal(2 * Math.Exp(3) * 4, x.Grad!.ToArray<double>()[0], 12);
        var error = Assert.Throws<AutogradException>(() => y.Backward());
        Assert.Contains("freed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DetachCutsTheGraph()
    {
        using var x = Leaf(2);
        using var d = x.Detach();
        using var y = (x * d).Sum();
        y.Backward();
        Assert.Equal(new[] { 2.0 }, x.Grad!.ToArray<double>());   // d is a constant
    }

    [Fact]
    public void InPlaceChangeOfASavedTensorIsRefused()
    {
        using var x = Leaf(1, 2);
        using var w = Tensor.FromArray(new double[] { 3, 4 });
        using var y = (x * w).Sum();
        w.AddInPlace(w);                                        // w was saved by the product
        var error = Assert.Throws<AutogradException>(() => y.Backward());
        Assert.Contains("modified in place", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InPlaceUpdateOfALeafNeedsNoGrad()
    {
        using var x = Leaf(1);
        Assert.Throws<AutogradException>(() => x.AffineInPlace(2));
        using (Tensor.NoGrad())
            x.AffineInPlace(2);
        Assert.Equal(new[] { 2.0 }, x.ToArray<double>());
    }

    [Fact]
    public void ImplicitSeedNeedsAScalar()
    {
        using var x = Leaf(1, 2);
        using var y = x * 2.0;
        Assert.Throws<AutogradException>(() => y.Backward());
        using var seed = Tensor.FromArray(new double[] { 1, 10 });
        y.Backward(seed);
        Assert.Equal(new[] { 2.0, 20.0 }, x.Grad!.ToArray<double>());
    }

    [Fact]
    public void OnlyFloatLeavesCanRequireGrad()
    {
        using var ids = Tensor.FromArray(new[] { 1, 2 });
        Assert.Throws<AutogradException>(() => ids.RequiresGrad = true);
        using var x = Leaf(1);
        using var y = x * 2.0;
        Assert.Throws<AutogradException>(() => y.RequiresGrad = false);
    }

    [Fact]
    public void AnalyticGradientsOfComposites()
    {
        // softmax(x)·[1,0] = σ(x₀ − x₁) for two logits ⇒ d/dx₀ = s(1−s), d/dx₁ = −s(1−s)
        using var x = Leaf(0.3, -0.4);
        using var pick = Tensor.FromArray(new double[] { 1, 0 });
        using var y = (x.Softmax() * pick).Sum();
        y.Backward();
        var s = 1 / (1 + Math.Exp(-0.7));
        var g = x.Grad!.ToArray<double>();
        Assert.Equal(s * (1 - s), g[0], 14);
        Assert.Equal(-s * (1 - s), g[1], 14);
    }

    [Fact]
    public void DeepChainsDoNotOverflowTheStack()
    {
        using var scope = CoLT5.Tensors.Memory.DisposeScope.Enter();
        var x = Leaf(1);
        var y = x;
        for (var i = 0; i < 20000; i++)
            y = y * 1.0;
        using var loss = y.Sum();
        loss.Backward();
        Assert.Equal(new[] { 1.0 }, x.Grad!.ToArray<double>());
    }

    // A node none of whose consumers sends a gradient (here: an op that declares its input's gradient zero by
    // returning null) must still count as done for the nodes it reads, or a node reachable along another path
    // (the exp below) waits forever and the gradient it did get is lost with its buffers.
    [Fact]
    public void ANodeThatGetsNoGradientDoesNotStallTheNodesItReads()
    {
        using var x = Tensor.FromArray<double>([0.5, -1.0, 2.0], new Shape(3));
        x.RequiresGrad = true;
        using var e = x.Exp();
        using var twice = e * 2.0;
        using var logged = e.Log();
        using var blocked = logged.Neg().Attach(new NoGradientTo(logged));
        using var loss = (twice + blocked).Sum();
        loss.Backward();
        Assert.NotNull(x.Grad);
        var g = x.Grad!.ToDoubleArray();
        double[] want = [2 * Math.Exp(0.5), 2 * Math.Exp(-1.0), 2 * Math.Exp(2.0)];
        for (var i = 0; i < 3; i++)
            Assert.Equal(want[i], g[i], 1e-14 * want[i]);
    }

    private sealed class NoGradientTo(Tensor input) : CoLT5.Tensors.Autograd.GradFn(input)
    {
        public override Tensor?[] Backward(Tensor grad) => [null];
    }
}
