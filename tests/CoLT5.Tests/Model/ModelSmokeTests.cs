// Every encoder type builds, runs forward and backward, and produces finite values of the right shapes.
using System;
using System.Linq;
using CoLT5.Model;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using Xunit;

namespace CoLT5.Tests.Model;

public sealed class ModelSmokeTests
{
    [Theory]
    [InlineData("t5")]
    [InlineData("longt5-local")]
    [InlineData("longt5-tglobal")]
    [InlineData("colt5")]
    public void ForwardAndBackwardRun(string encoder)
    {
        using var scope = DisposeScope.Enter();
        using var model = Seq2SeqModel.Create(ModelTestKit.Micro(encoder), seed: 3, DType.Float64);
        var (ids, mask) = ModelTestKit.Inputs(2, 19, 40, 7, padLastRow: 5);
        var (dec, labels) = ModelTestKit.Targets(2, 6, 40, 8, [6, 3]);
        using var output = model.Forward(ids, mask, dec, labels);
        Assert.Equal(new Shape(2, 6, 40), output.Logits.Shape);
        var loss = output.Loss!.Item();
        Assert.True(double.IsFinite(loss) && loss > 0, $"loss {loss}");
        output.Loss.Backward();
        foreach (var (name, p) in model.Parameters.Parameters)
        {
            Assert.True(p.Grad is not null || name.Contains("router", StringComparison.Ordinal), $"{name} got no gradient");
            if (p.Grad is not null)
                Assert.True(p.Grad.ToDoubleArray().All(double.IsFinite), $"{name} has a non-finite gradient");
        }
    }
}
