// Adafactor: hand-derived first and second steps (unfactored and factored, clipping on and off, parameter scale and
// its floor), multi-step agreement with a scalar transcription, the factoring rule, O(rows + cols) state, and
// convergence on a small least-squares problem.
using System;
using System.Linq;
using CoLT5.Nn.Optim;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tests.Testing;
using Xunit;
using static CoLT5.Tests.Optim.OptimTestSupport;

namespace CoLT5.Tests.Optim;

public sealed class AdafactorTests
{
    private static readonly double Decay2 = 1 - Math.Pow(2, -0.8); // β̂₂ of the second update

    [Fact]
    public void DefaultsAreT5Xs()
    {
        using var p = Param(new double[] { 1 });
        using var opt = new Adafactor([("w", p)]);
        Assert.Equal(0.01, opt.LearningRate); // 1/√max(0, 10⁴)
        Assert.Equal(0.8, opt.DecayRate);
        Assert.Equal(1e-30, opt.Epsilon1);
        Assert.Equal(1e-3, opt.Epsilon2);
        Assert.Equal(1.0, opt.ClippingThreshold);
        Assert.True(opt.MultiplyByParameterScale);
        Assert.True(opt.Factored);
        Assert.Equal(128, opt.MinDimSizeToFactor);
        Assert.Null(opt.Beta1);
        Assert.Null(opt.WeightDecayRate);
    }

    [Fact]
    public void FirstUnfactoredStepIsSignTimesRelativeRate()
    {
        // β̂₂ = 0 on the first update, so v = g² + ε₁ and u = sign(g); RMS(u) = 1 does not clip; the step is
        // lr·RMS(θ)·sign(g).
        double[] p0 = [0.5, -1, 2];
        using var p = Param(p0);
        using var opt = new Adafactor([("w", p)], 0.01);
        SetGrad(p, [0.1, -0.2, 0.3]);
        opt.Step();
        var s = 0.01 * Math.Sqrt((0.25 + 1 + 4) / 3);
        Closeness.Assert("step 1", p.ToDoubleArray(), [0.5 - s, -1 + s, 2 - s], 1e-15);
    }

    [Theory]
    [InlineData(10.0, true)]   // a 10× larger gradient: RMS(u) = 10/√(β̂₂ + 100(1 − β̂₂)) ≈ 1.31, clipped to 1
    [InlineData(0.1, false)]   // a 10× smaller one: RMS(u) ≈ 0.152, left alone
    public void SecondStepClipsOnlyAboveThreshold(double factor, bool clipped)
    {
        double[] p0 = [0.5, -1, 2];
        double[] g1 = [0.1, -0.2, 0.3];
        using var p = Param(p0);
        using var opt = new Adafactor([("w", p)], 0.01);
        SetGrad(p, g1);
        opt.Step();
        var p1 = p.ToDoubleArray();
        SetGrad(p, g1.Select(x => x * factor).ToArray());
        opt.Step();

        // Every coordinate has v = g1²·(β̂₂ + factor²(1 − β̂₂)), so |u| = factor/√(β̂₂ + factor²(1 − β̂₂)) everywhere.
        var magnitude = factor / Math.Sqrt(Decay2 + factor * factor * (1 - Decay2));
        Assert.Equal(clipped, magnitude > 1);
        var step = 0.01 * AdafactorReference.Rms(p1) * Math.Min(magnitude, 1);
        double[] sign = [1, -1, 1];
        Closeness.Assert("step 2", p.ToDoubleArray(), p1.Select((x, i) => x - step * sign[i]).ToArray(), 1e-14);
    }

    [Fact]
    public void LowerClippingThresholdHalvesTheFirstStep()
    {
        using var p = Param(new double[] { 3, 4 });
        using var opt = new Adafactor([("w", p)], 0.1) { ClippingThreshold = 0.5 };
        SetGrad(p, [-1, 2]);
        opt.Step();
        var s = 0.1 * Math.Sqrt(12.5) * 0.5;
        Closeness.Assert("clipped", p.ToDoubleArray(), [3 + s, 4 - s], 1e-15);
    }

    [Fact]
    public void ParameterScaleOffAndItsFloor()
    {
        using var a = Param(new double[] { 3, 4 });
        using var b = Param(new double[] { 0, 0 });
        using var opt = new Adafactor([("a", a)], 0.1) { MultiplyByParameterScale = false };
        using var floored = new Adafactor([("b", b)], 0.1);
        SetGrad(a, [-1, 2]);
        SetGrad(b, [-1, 2]);
        opt.Step();
        floored.Step();
        Closeness.Assert("absolute step", a.ToDoubleArray(), [3.1, 3.9], 1e-15);
        Closeness.Assert("floored scale", b.ToDoubleArray(), [1e-4, -1e-4], 1e-12);
    }

    [Fact]
    public void WeightDecayIsT5XsDecoupledForm()
    {
        // θ ← (1 − w)·θ − Δ with w = 0.5·lr¹ = 0.05; no parameter scale, so Δ = lr·sign(g).
        using var p = Param(new double[] { 2, -4 });
        using var opt = new Adafactor([("w", p)], 0.1)
        {
            MultiplyByParameterScale = false,
            WeightDecayRate = 0.5,
            WeightDecayRateLrExponent = 1,
        };
        SetGrad(p, [3, 3]);
        opt.Step();
        Closeness.Assert("decayed", p.ToDoubleArray(), [0.95 * 2 - 0.1, 0.95 * -4 - 0.1], 1e-15);
    }

    [Fact]
    public void FactoredFirstStepReconstructsARankOneSecondMoment()
    {
        // g = u·wᵀ: v_row = u²·mean(w²), v_col = w²·mean(u²), mean(v_row) = mean(u²)·mean(w²), so the reconstruction
        // v_row·v_col/mean(v_row) is exactly g² and the update is sign(g) again.
        double[] u = [1, -2];
        double[] w = [0.5, 1, -3];
        var g = u.SelectMany(x => w.Select(y => x * y)).ToArray();
        var p0 = Enumerable.Range(0, 6).Select(i => 0.1 * (i + 1)).ToArray();
        using var p = Param(p0, 2, 3);
        using var opt = new Adafactor([("w", p)], 0.01) { MinDimSizeToFactor = 2 };
        Assert.Equal((0, 1), opt.FactoredAxes(p.Shape));
        SetGrad(p, g);
        opt.Step();
        var s = 0.01 * AdafactorReference.Rms(p0);
        Closeness.Assert("factored step", p.ToDoubleArray(), p0.Select((x, i) => x - s * Math.Sign(g[i])).ToArray(),
            1e-14);

        using var state = opt.ExportState();
        var vRow = state.Tensors.Single(t => t.Name == "v_row/w").Tensor;
        var vCol = state.Tensors.Single(t => t.Name == "v_col/w").Tensor;
        Assert.Equal(new Shape(2, 1), vRow.Shape);
        Assert.Equal(new Shape(1, 3), vCol.Shape);
        var meanW2 = w.Average(x => x * x);
        var meanU2 = u.Average(x => x * x);
        Closeness.Assert("v_row", vRow.ToDoubleArray(), u.Select(x => x * x * meanW2).ToArray(), 1e-15);
        Closeness.Assert("v_col", vCol.ToDoubleArray(), w.Select(x => x * x * meanU2).ToArray(), 1e-15);
    }

    public static TheoryData<int[], AdafactorFactoring, bool, bool> ReferenceCases() => new()
    {
        { new[] { 5 }, AdafactorFactoring.TwoLargestDims, false, false },
        { new[] { 4, 5 }, AdafactorFactoring.TwoLargestDims, false, false },
        { new[] { 6, 4 }, AdafactorFactoring.TwoLargestDims, true, false },
        { new[] { 2, 3, 4 }, AdafactorFactoring.TwoLargestDims, true, true },
        { new[] { 5, 2, 3 }, AdafactorFactoring.TwoLargestDims, false, true },
        { new[] { 5, 2, 3 }, AdafactorFactoring.LastTwoDims, true, true },
    };

    [Theory]
    [MemberData(nameof(ReferenceCases))]
    public void MatchesScalarTranscriptionOverSeveralSteps(int[] shape, AdafactorFactoring factoring, bool momentum,
        bool weightDecay)
    {
        var n = shape.Aggregate(1, (a, b) => a * b);
        var p0 = Noise(n, 11);
        using var p = Param(p0, shape);
        double[] lrs = [0.3, 0.2, 0.1, 0.05];
        using var opt = new Adafactor([("w", p)], new LambdaSchedule(s => lrs[s]))
        {
            Factoring = factoring,
            MinDimSizeToFactor = 2,
            Beta1 = momentum ? 0.9 : null,
            WeightDecayRate = weightDecay ? 0.01 : null,
        };
        var axes = opt.FactoredAxes(p.Shape);
        Assert.Equal(shape.Length >= 2, axes is not null);
        var reference = new AdafactorReference(shape, axes)
        {
            Beta1 = momentum ? 0.9 : null,
            WeightDecay = weightDecay ? 0.01 : null,
        };
        var want = p0;
        for (var step = 0; step < lrs.Length; step++)
        {
            // Gradients that vary in scale between steps, so clipping switches on and off along the way.
            var g = Noise(n, (ulong)(100 + step)).Select((x, i) => x * (step % 2 == 0 ? 1 : 5) * (1 + i % 3)).ToArray();
            SetGrad(p, g);
            opt.Step();
            want = reference.Step(want, g, lrs[step]);
            Closeness.Assert($"{string.Join("x", shape)} {factoring} step {step + 1}", p.ToDoubleArray(), want, 1e-12);
        }
    }

    [Fact]
    public void FactoringRuleFollowsT5X()
    {
        using var p = Param(new double[] { 1 });
        using var t5x = new Adafactor([("w", p)]);
        Assert.Equal((0, 1), t5x.FactoredAxes(new Shape(768, 2048)));
        Assert.Equal((1, 0), t5x.FactoredAxes(new Shape(32128, 768))); // the larger axis is the "column"
        Assert.Equal((0, 1), t5x.FactoredAxes(new Shape(128, 128)));   // a tie keeps the index order
        Assert.Equal((1, 2), t5x.FactoredAxes(new Shape(2, 128, 200)));
        Assert.Null(t5x.FactoredAxes(new Shape(4, 5)));                // below 128: unfactored
        Assert.Null(t5x.FactoredAxes(new Shape(127, 4096)));
        Assert.Null(t5x.FactoredAxes(new Shape(4096)));
        using var lastTwo = new Adafactor([("w", p)]) { Factoring = AdafactorFactoring.LastTwoDims };
        Assert.Equal((0, 1), lastTwo.FactoredAxes(new Shape(32128, 768)));
        Assert.Equal((1, 2), lastTwo.FactoredAxes(new Shape(512, 128, 256)));
        using var off = new Adafactor([("w", p)]) { Factored = false };
        Assert.Null(off.FactoredAxes(new Shape(768, 2048)));
    }

    [Fact]
    public void MatrixStateIsRowsPlusColumns()
    {
        using var matrix = Tensor.Zeros(new Shape(256, 130));
        using var small = Tensor.Zeros(new Shape(4, 5));
        using var vector = Tensor.Zeros(new Shape(300));
        matrix.RequiresGrad = small.RequiresGrad = vector.RequiresGrad = true;
        using var opt = new Adafactor([("m", matrix), ("s", small), ("v", vector)]);
        foreach (var t in new[] { matrix, small, vector })
            t.Grad = Tensor.OnesLike(t);
        opt.Step();
        Assert.Equal(256 + 130, opt.StateElementCount("m"));
        Assert.Equal(20, opt.StateElementCount("s"));
        Assert.Equal(300, opt.StateElementCount("v"));
        using var withMomentum = new Adafactor([("m", matrix)]) { Beta1 = 0.9 };
        withMomentum.Step();
        Assert.Equal(256 + 130 + 256 * 130, withMomentum.StateElementCount("m"));
    }

    [Theory]
    [InlineData(2)]   // factored
    [InlineData(128)] // unfactored
    public void SolvesLeastSquares(int minDimToFactor)
    {
        // W (4×8), float32: minimise mean((X·Wᵀ − Y)²) for Y = X·W*ᵀ.
        const int rows = 64, inputs = 8, outputs = 4;
        using var x = Tensor.FromArray(Noise(rows * inputs, 1).Select(v => (float)v).ToArray(), rows, inputs);
        using var target = Tensor.FromArray(Noise(outputs * inputs, 2).Select(v => (float)v).ToArray(),
            outputs, inputs);
        using var y = Tensor.MatMul(x, target, transposeB: true);
        using var w = Param(Noise(outputs * inputs, 3).Select(v => (float)(0.1 * v)).ToArray(), outputs, inputs);
        using var opt = new Adafactor([("w", w)], LearningRateSchedules.CosineWithWarmup(0.1, 10, 400, 0.001))
        {
            MinDimSizeToFactor = minDimToFactor,
        };
        double Loss(bool backward)
        {
            using var scope = DisposeScope.Enter();
            using var noGrad = backward ? default : Tensor.NoGrad();
            var loss = (Tensor.MatMul(x, w, transposeB: true) - y).Square().Mean();
            if (backward)
                loss.Backward();
            return loss.Item();
        }
        var initial = Loss(false);
        for (var i = 0; i < 400; i++)
        {
            Loss(true);
            opt.Step();
            opt.ZeroGrad();
        }
        var final = Loss(false);
        Assert.True(final < 1e-8 * initial, $"loss {initial} → {final}");
    }
}
