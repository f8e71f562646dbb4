// Checkpointing: export → import into a fresh optimizer over copied parameters → continue gives bit-identical
// parameters and state to an uninterrupted run; mismatched state is rejected without changing the optimizer.
using System;
using System.Collections.Generic;
using System.Linq;
using CoLT5.Nn.Optim;
using CoLT5.Tensors;
using Xunit;
using static CoLT5.Tests.Optim.OptimTestSupport;

namespace CoLT5.Tests.Optim;

public sealed class OptimizerStateTests
{
    private static readonly int[][] Shapes = [[3], [4, 5], [2, 3, 4]];

    public static TheoryData<string> Kinds() => new("adamw", "adamw-amsgrad", "adafactor", "adafactor-momentum");

    private static Optimizer Make(string kind, List<(string Name, Tensor Tensor)> ps)
    {
        var schedule = LearningRateSchedules.CosineWithWarmup(0.05, 2, 20);
        return kind switch
        {
            "adamw" => new AdamW(ps, schedule),
            "adamw-amsgrad" => new AdamW(ps, schedule) { AmsGrad = true },
            "adafactor" => new Adafactor(ps, schedule) { MinDimSizeToFactor = 3 },
            _ => new Adafactor(ps, schedule) { MinDimSizeToFactor = 3, Beta1 = 0.9, WeightDecayRate = 1e-3 },
        };
    }

    private static List<(string Name, Tensor Tensor)> Fresh() =>
        Shapes.Select((s, i) => ($"layer.{i}.weight",
            Param(Noise(s.Aggregate(1, (a, b) => a * b), (ulong)i).Select(v => (float)v).ToArray(), s))).ToList();

    // Float32 gradients that depend on the step and on the parameters (so a resumed run must have the same values).
    private static void Train(Optimizer opt, int from, int to)
    {
        for (var step = from; step < to; step++)
        {
            for (var i = 0; i < opt.Parameters.Count; i++)
            {
                var p = opt.Parameters[i].Tensor;
                if ((step + i) % 5 == 4)
                    continue; // now and then a parameter gets no gradient
                var noise = Noise((int)p.NumElements, (ulong)(1000 * step + i));
                var values = p.ToArray<float>().Select((v, j) => (float)(v + noise[j])).ToArray();
                p.Grad = Tensor.FromArray(values, p.Shape);
            }
            opt.Step();
            opt.ZeroGrad();
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ResumeIsBitIdentical(string kind)
    {
        var straight = Fresh();
        var first = Fresh();
        var resumed = new List<(string Name, Tensor Tensor)>();
        try
        {
            using var optStraight = Make(kind, straight);
            Train(optStraight, 0, 12);

            OptimizerState saved;
            using (var optFirst = Make(kind, first))
            {
                Train(optFirst, 0, 5);
                saved = optFirst.ExportState();
            }
            using (saved)
            {
                // Checkpointed parameters: fresh tensors holding the values (as loading a checkpoint makes).
                resumed.AddRange(first.Select(p =>
                    (p.Name, Param(p.Tensor.ToArray<float>(), p.Tensor.Shape.ToArray()))));
                using var optResumed = Make(kind, resumed);
                optResumed.ImportState(saved);
                Assert.Equal(5, optResumed.StepCount);
                Train(optResumed, 5, 12);

                for (var i = 0; i < straight.Count; i++)
                    Assert.Equal(straight[i].Tensor.ToArray<float>(), resumed[i].Tensor.ToArray<float>());
                using var a = optStraight.ExportState();
                using var b = optResumed.ExportState();
                Assert.Equal(a.Step, b.Step);
                Assert.Equal(a.Scalars.OrderBy(kv => kv.Key), b.Scalars.OrderBy(kv => kv.Key));
                Assert.Equal(a.Tensors.Select(t => t.Name), b.Tensors.Select(t => t.Name));
                for (var i = 0; i < a.Tensors.Count; i++)
                    Assert.Equal(a.Tensors[i].Tensor.ToArray<float>(), b.Tensors[i].Tensor.ToArray<float>());
            }
        }
        finally
        {
            foreach (var (_, t) in straight.Concat(first).Concat(resumed))
                t.Dispose();
        }
    }

    [Fact]
    public void StateNamesSlotsAndSteps()
    {
        var ps = Fresh();
        try
        {
            using var opt = Make("adafactor-momentum", ps);
            Train(opt, 0, 1);
            using var state = opt.ExportState();
            Assert.Equal("adafactor", state.Kind);
            Assert.Equal(1, state.Step);
            Assert.Equal(
                new[]
                {
                    "v/layer.0.weight", "m/layer.0.weight",
                    "v_row/layer.1.weight", "v_col/layer.1.weight", "m/layer.1.weight",
                    "v_row/layer.2.weight", "v_col/layer.2.weight", "m/layer.2.weight",
                },
                state.Tensors.Select(t => t.Name));
            Assert.Equal(1.0, state.Scalars["step/layer.0.weight"]);
            Assert.Equal(new Shape(2, 3, 1), state.Tensors.Single(t => t.Name == "v_row/layer.2.weight").Tensor.Shape);
            Assert.All(state.Tensors, t => Assert.Equal(DType.Float32, t.Tensor.DType));
        }
        finally
        {
            foreach (var (_, t) in ps)
                t.Dispose();
        }
    }

    [Fact]
    public void MismatchedStateIsRejectedAndLeavesTheOptimizerAlone()
    {
        var ps = Fresh();
        try
        {
            using var adamw = Make("adamw", ps);
            using var amsgrad = Make("adamw-amsgrad", ps);
            using var adafactor = Make("adafactor", ps);
            Train(amsgrad, 0, 2);
            Train(adamw, 0, 3);
            using var plain = adamw.ExportState();
            using var withMax = amsgrad.ExportState();

            Assert.Throws<ArgumentException>(() => adafactor.ImportState(plain));    // another optimizer
            Assert.Throws<ArgumentException>(() => amsgrad.ImportState(plain));      // a slot is missing
            Assert.Throws<ArgumentException>(() => adamw.ImportState(withMax));      // an extra slot
            Assert.Equal(3, adamw.StepCount);
            Assert.Equal(2, amsgrad.StepCount);

            var renamed = new OptimizerState("adamw", 3,
                new Dictionary<string, double> { ["step/other"] = 1 }, []);
            Assert.Throws<ArgumentException>(() => adamw.ImportState(renamed));     // unknown parameter
            using var copy = adamw.ExportState();
            Assert.Equal(plain.Tensors[0].Tensor.ToArray<float>(), copy.Tensors[0].Tensor.ToArray<float>());
        }
        finally
        {
            foreach (var (_, t) in ps)
                t.Dispose();
        }
    }
}
