// Global-norm clipping against torch.nn.utils.clip_grad_norm_ goldens, and gradient accumulation: K micro-batches
// of a linear model with a mean loss give the same update as one batch K times as large.
using System;
using System.Linq;
using CoLT5.Nn.Optim;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tests.Testing;
using Xunit;
using static CoLT5.Tests.Optim.OptimTestSupport;

namespace CoLT5.Tests.Optim;

public sealed class ClippingAndAccumulationTests
{
    [Theory]
    [InlineData("clipped")]
    [InlineData("below_max")]
    public void ClipGradNormMatchesTorch(string caseName)
    {
        var c = Goldens.GetProperty("clip_grad_norm").EnumerateArray()
            .Single(e => e.GetProperty("name").GetString() == caseName);
        var shapes = Goldens.GetProperty("shapes").EnumerateArray().Select(Ints).ToList();
        var grads = c.GetProperty("grads").EnumerateArray().Select(Doubles).ToList();
        var parameters = shapes.Select(s => Param(new double[s.Aggregate(1, (a, b) => a * b)], s)).ToList();
        try
        {
            for (var i = 0; i < parameters.Count; i++)
                SetGrad(parameters[i], grads[i]);
            var norm = GradientClipping.ClipGradNorm(parameters, c.GetProperty("max_norm").GetDouble());
            Assert.Equal(c.GetProperty("total_norm").GetDouble(), norm, 1e-13);
            var clipped = c.GetProperty("clipped").EnumerateArray().Select(Doubles).ToList();
            for (var i = 0; i < parameters.Count; i++)
                Closeness.Assert($"{caseName} grad {i}", parameters[i].Grad!.ToDoubleArray(), clipped[i], 1e-13);
            if (caseName == "below_max")
            {
                for (var i = 0; i < parameters.Count; i++)
                    Assert.Equal(grads[i], parameters[i].Grad!.ToDoubleArray()); // untouched, bit for bit
            }
        }
        finally
        {
            foreach (var p in parameters)
                p.Dispose();
        }
    }

    [Fact]
    public void ClipGradNormScalesToTheLimitAndIgnoresMissingGradients()
    {
        using var a = Param(new float[] { 3, 0 });
        using var b = Param(new float[] { 0, 4 });
        using var none = Param(new float[] { 1 });
        SetGrad(a, [3, 0]);
        SetGrad(b, [0, 4]);
        var norm = GradientClipping.ClipGradNorm(new[] { a, b, none }, 1.0);
        Assert.Equal(5.0, norm, 1e-6);
        Assert.Null(none.Grad);
        Assert.Equal(1.0, GradientClipping.GradNorm(new[] { a, b }), 1e-6);
        var scale = 1 / (5 + 1e-6);
        Assert.Equal(new[] { (float)(3 * scale), 0f }, a.Grad!.ToArray<float>());
        Assert.Equal(0.0, GradientClipping.ClipGradNorm(new[] { none }, 1.0));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AccumulatedMicroBatchesEqualOneLargeBatch(bool clip)
    {
        // y = X·W with a mean squared error: 4 micro-batches of 3 rows against one batch of 12 rows, 3 steps.
        const int rows = 12, inputs = 5, outputs = 2, micro = 4;
        var x = Noise(rows * inputs, 7);
        var y = Noise(rows * outputs, 8);
        var w0 = Noise(inputs * outputs, 9);
        using var whole = Param(w0, inputs, outputs);
        using var split = Param(w0, inputs, outputs);
        using var optWhole = new AdamW([("w", whole)], 0.05);
        using var optSplit = new AdamW([("w", split)], 0.05);
        var accumulator = new GradientAccumulator(optSplit, micro, clip ? 0.1 : null);
        double? wholeNorm = null;
        for (var step = 0; step < 3; step++)
        {
            Backward(whole, x, y, 0, rows);
            if (clip)
                wholeNorm = GradientClipping.ClipGradNorm([("w", whole)], 0.1);
            optWhole.Step();
            optWhole.ZeroGrad();

            var per = rows / micro;
            for (var k = 0; k < micro; k++)
            {
                Backward(split, x, y, k * per, per);
                Assert.Equal(k == micro - 1, accumulator.MicroStep());
            }
            Assert.Equal(0, accumulator.Pending);
            Assert.Null(split.Grad);
            if (clip)
                Assert.Equal(wholeNorm!.Value, accumulator.LastGradNorm!.Value, 1e-13);
            Closeness.Assert($"step {step + 1}", split.ToDoubleArray(), whole.ToDoubleArray(), 1e-13);
        }
        Assert.Equal(3, optSplit.StepCount);
    }

    [Fact]
    public void FlushStepsOnAPartialGroupWithItsOwnAverage()
    {
        using var p = Param(new double[] { 0, 0 });
        using var q = Param(new double[] { 0, 0 });
        using var optP = new AdamW([("w", p)], 0.1) { WeightDecay = 0 };
        using var optQ = new AdamW([("w", q)], 0.1) { WeightDecay = 0 };
        var accumulator = new GradientAccumulator(optP, 4);
        foreach (var g in new[] { new double[] { 1, 2 }, [3, -6] })
        {
            using var grad = Tensor.FromArray(g);
            if (p.Grad is null)
                SetGrad(p, g);
            else
                p.Grad.AddInPlace(grad);
            Assert.False(accumulator.MicroStep());
        }
        Assert.False(new GradientAccumulator(optQ, 2).Flush());
        Assert.True(accumulator.Flush());
        SetGrad(q, [2, -2]);
        optQ.Step();
        Assert.Equal(q.ToDoubleArray(), p.ToDoubleArray());
        Assert.Equal(0, accumulator.Pending);
    }

    private static void Backward(Tensor w, double[] x, double[] y, int start, int count)
    {
        var inputs = w.Shape[0];
        var outputs = w.Shape[1];
        using var scope = DisposeScope.Enter();
        var xs = Tensor.FromArray(x.AsSpan(start * inputs, count * inputs), new Shape(count, inputs));
        var ys = Tensor.FromArray(y.AsSpan(start * outputs, count * outputs), new Shape(count, outputs));
        var loss = (xs.MatMul(w) - ys).Square().Mean();
        loss.Backward();
    }
}
