// The README's API example, compiled and run, so the front page never drifts from the code.
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;
using Xunit;

namespace CoLT5.Tests.Tensors;

public sealed class ReadmeExampleTests
{
    [Fact]
    public void ReadmeSnippetRunsAndProducesAGradient()
    {
        var g = new Generator(seed: 1);
        using var w = Tensor.RandN(new Shape(512, 256), g, std: 0.05);
        w.RequiresGrad = true;

        using (var step = DisposeScope.Enter())
        {
            var x = Tensor.RandN(new Shape(8, 256), g);
            var logits = Tensor.MatMul(x, w, transposeB: true);
            var loss = Tensor.CrossEntropy(logits, Tensor.FromArray(new[] { 1, 2, 3, 4, 5, 6, 7, 8 }));
            loss.Backward();
            Assert.True(loss.Item() > 0);
        }
        Assert.Equal(w.Shape, w.Grad!.Shape);
        Assert.False(w.Grad.IsDisposed);
    }
}
