// AdamW against torch.optim.AdamW trajectories (golden/adamw_torch.json, float64): parameters after every step and
// the final moment estimates, including AMSGrad, a per-step learning rate and parameters that miss gradients.
using System.Linq;
using System.Text.Json;
using CoLT5.Nn.Optim;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tests.Testing;
using Xunit;
using static CoLT5.Tests.Optim.OptimTestSupport;

namespace CoLT5.Tests.Optim;

public sealed class AdamWTests
{
    public static TheoryData<string> Cases() =>
        new(Goldens.GetProperty("adamw").EnumerateArray().Select(c => c.GetProperty("name").GetString()!));

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTorchTrajectory(string caseName)
    {
        var c = Goldens.GetProperty("adamw").EnumerateArray()
            .Single(e => e.GetProperty("name").GetString() == caseName);
        var specs = c.GetProperty("params").EnumerateArray().ToList();
        var parameters = specs
            .Select(s => (s.GetProperty("name").GetString()!,
                Param(Doubles(s.GetProperty("init")), Ints(s.GetProperty("shape")))))
            .ToList();
        try
        {
            var lrs = Doubles(c.GetProperty("lr"));
            var betas = Doubles(c.GetProperty("betas"));
            using var opt = new AdamW(parameters, new LambdaSchedule(step => lrs[step]))
            {
                Beta1 = betas[0],
                Beta2 = betas[1],
                Epsilon = c.GetProperty("eps").GetDouble(),
                WeightDecay = c.GetProperty("weight_decay").GetDouble(),
                AmsGrad = c.GetProperty("amsgrad").GetBoolean(),
            };
            var grads = c.GetProperty("grads").EnumerateArray().ToList();
            var trajectory = c.GetProperty("trajectory").EnumerateArray().ToList();
            for (var step = 0; step < grads.Count; step++)
            {
                var row = grads[step].EnumerateArray().ToList();
                for (var i = 0; i < parameters.Count; i++)
                {
                    if (row[i].ValueKind == JsonValueKind.Null)
                        parameters[i].Item2.Grad = null;
                    else
                        SetGrad(parameters[i].Item2, Doubles(row[i]));
                }
                Assert.Equal(lrs[step], opt.LearningRate);
                opt.Step();
                var want = trajectory[step].EnumerateArray().ToList();
                for (var i = 0; i < parameters.Count; i++)
                {
                    Closeness.Assert($"{caseName} step {step + 1} {parameters[i].Item1}",
                        parameters[i].Item2.ToDoubleArray(), Doubles(want[i]), 1e-12);
                }
                opt.ZeroGrad();
                Assert.All(parameters, p => Assert.Null(p.Item2.Grad));
            }

            using var state = opt.ExportState();
            Assert.Equal("adamw", state.Kind);
            Assert.Equal(grads.Count, state.Step);
            var tensors = state.Tensors.ToDictionary(t => t.Name, t => t.Tensor);
            foreach (var p in c.GetProperty("final_state").EnumerateObject())
            {
                Assert.Equal(p.Value.GetProperty("step").GetDouble(), state.Scalars[OptimizerState.StepName(p.Name)]);
                Assert.Equal((long)p.Value.GetProperty("step").GetDouble(), opt.ParameterStepCount(p.Name));
                foreach (var slot in p.Value.EnumerateObject().Where(s => s.Name != "step"))
                {
                    Closeness.Assert($"{caseName} {slot.Name} of {p.Name}",
                        tensors[OptimizerState.TensorName(slot.Name, p.Name)].ToDoubleArray(),
                        Doubles(slot.Value), 1e-12);
                }
            }
        }
        finally
        {
            foreach (var (_, t) in parameters)
                t.Dispose();
        }
    }

    [Fact]
    public void DefaultsArePyTorchs()
    {
        using var p = Param(new double[] { 1, 2 });
        using var opt = new AdamW([("w", p)]);
        Assert.Equal(1e-3, opt.LearningRate);
        Assert.Equal(0.9, opt.Beta1);
        Assert.Equal(0.999, opt.Beta2);
        Assert.Equal(1e-8, opt.Epsilon);
        Assert.Equal(0.01, opt.WeightDecay);
        Assert.False(opt.AmsGrad);
    }

    [Fact]
    public void FirstStepMovesEveryCoordinateByTheLearningRate()
    {
        // Bias correction makes the first Adam step lr·g/(|g| + ε'), i.e. lr·sign(g) up to ε; weight decay first.
        using var p = Param(new double[] { 1, -2, 3 });
        using var opt = new AdamW([("w", p)], 0.1) { WeightDecay = 0.5 };
        SetGrad(p, [4, -5, 1e-3]);
        opt.Step();
        var decayed = new[] { 1 * 0.95, -2 * 0.95, 3 * 0.95 };
        var want = new[]
        {
            decayed[0] - 0.1 * 4 / (4 + 1e-8),
            decayed[1] + 0.1 * 5 / (5 + 1e-8),
            decayed[2] - 0.1 * 1e-3 / (1e-3 + 1e-8),
        };
        Closeness.Assert("first step", p.ToDoubleArray(), want, 1e-14);
    }

    [Fact]
    public void LearningRateScaleMultipliesTheStepOfNamedParameters()
    {
        // The first Adam step is lr·sign(g) (up to ε), so a scaled parameter moves scale times as far.
        using var a = Param(new double[] { 0, 0 });
        using var b = Param(new double[] { 0, 0 });
        using var opt = new AdamW([("w", a), ("relative_attention_bias.weight", b)], 0.01)
        {
            WeightDecay = 0,
            LearningRateScale = name => CoLT5.Model.Training.OptimizerFactory.IsPositionBias(name) ? 30 : 1,
        };
        SetGrad(a, [1, -1]);
        SetGrad(b, [1, -1]);
        opt.Step();
        Closeness.Assert("unscaled", a.ToDoubleArray(), [-0.01, 0.01], 1e-7);
        Closeness.Assert("scaled", b.ToDoubleArray(), [-0.3, 0.3], 1e-7);
    }

    [Fact]
    public void DecayFilterExemptsNamedParameters()
    {
        using var a = Param(new double[] { 1, 1 });
        using var b = Param(new double[] { 1, 1 });
        using var opt = new AdamW([("w", a), ("layer_norm.weight", b)], 0.1)
        {
            WeightDecay = 1,
            DecayFilter = name => !name.Contains("layer_norm", System.StringComparison.Ordinal),
        };
        SetGrad(a, [0, 0]);
        SetGrad(b, [0, 0]);
        opt.Step();
        Assert.Equal(new[] { 0.9, 0.9 }, a.ToDoubleArray());
        Assert.Equal(new[] { 1.0, 1.0 }, b.ToDoubleArray());
    }

    [Fact]
    public void StepInsideCallerScopeKeepsStateAndLeavesNothingBehind()
    {
        // State allocated during a step taken inside the caller's DisposeScope must outlive that scope, and every
        // temporary must already be gone when the step returns.
        using var p = Param(new float[] { 1, 2, 3 });
        using var q = Param(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        Optimizer[] optimizers =
        [
            new AdamW([("p", p), ("q", q)], 0.1) { AmsGrad = true },
            new Adafactor([("p", p), ("q", q)], 0.1) { MinDimSizeToFactor = 2, Beta1 = 0.9 },
            new Adafactor([("p", p), ("q", q)], 0.1),
        ];
        foreach (var opt in optimizers)
        {
            using (opt)
            {
                for (var step = 0; step < 2; step++)
                {
                    SetGrad(p, [1, -1, 2]);
                    SetGrad(q, [1, -1, 2, 0.5, 3, -2]);
                    using var scope = DisposeScope.Enter();
                    GradientClipping.ClipGradNorm(opt.Parameters, 1.0);
                    opt.Step();
                    using (opt.ExportState())
                        Assert.Equal(0, scope.Count);
                }
                Assert.Equal(2, opt.ParameterStepCount("p"));
                Assert.True(opt.StateElementCount("q") > 0);
                opt.ZeroGrad();
            }
        }
        Assert.Equal(DType.Float32, p.DType);
    }

    [Fact]
    public void RejectsNonFloatAndDuplicateParameters()
    {
        using var p = Param(new double[] { 1 });
        using var ints = Tensor.FromArray(new[] { 1, 2 });
        Assert.Throws<System.ArgumentException>(() => new AdamW([("a", p), ("a", p)]));
        Assert.Throws<System.ArgumentException>(() => new AdamW([("i", ints)]));
        Assert.Throws<System.ArgumentOutOfRangeException>(() => new AdamW([("a", p)]) { Beta1 = 1 });
    }
}
