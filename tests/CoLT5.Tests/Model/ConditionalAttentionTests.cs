// CoLT5 conditional attention with the learned null output (D7 option): the vector is added at real tokens that
// were not routed as heavy queries, and nowhere else, so padded positions stay as they are without it; real tokens'
// outputs do not depend on how the batch is padded.
using System.Linq;
using CoLT5.Model.Configuration;
using CoLT5.Model.Layers;
using CoLT5.Nn;
using CoLT5.Nn.Modules;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;
using CoLT5.Tests.Testing;
using Xunit;

namespace CoLT5.Tests.Model;

public sealed class ConditionalAttentionTests
{
    private static readonly int[] RealLengths = [12, 8];

    [Fact]
    public void TheNullOutputGoesToUnroutedRealTokensOnly()
    {
        using var scope = DisposeScope.Enter();
        var config = ModelTestKit.Micro("colt5") with { RouterNullOutput = true };
        int batch = RealLengths.Length, n = RealLengths.Max(), d = config.DModel;
        var mask = Enumerable.Range(0, batch * n).Select(i => i % n < RealLengths[i / n]).ToArray();
        var nullOutput = Enumerable.Range(1, d).Select(i => 0.25 * i).ToArray();
        var g = new Generator(4);
        var hidden = Tensor.FromArray<double>(Enumerable.Range(0, batch * n * d).Select(_ => g.NextDouble() - 0.5)
            .ToArray(), new Shape(batch, n, d));

        // the same layer twice: with its initial (zero) null output, and with nullOutput
        var without = Run(config, hidden, mask, null);
        var with = Run(config, hidden, mask, nullOutput);

        for (var b = 0; b < batch; b++)
        {
            var unchanged = 0;
            for (var i = 0; i < n; i++)
            {
                var at = (b * n + i) * d;
                var diff = Enumerable.Range(0, d).Select(j => with[at + j] - without[at + j]).ToArray();
                if (!mask[b * n + i])
                {
                    Assert.All(diff, x => Assert.Equal(0.0, x));             // padding: untouched
                    continue;
                }
                var isNull = diff.Zip(nullOutput).All(p => System.Math.Abs(p.First - p.Second) < 1e-12);
                var isZero = diff.All(x => System.Math.Abs(x) < 1e-12);
                Assert.True(isNull ^ isZero, $"row {b}, token {i}: the difference is neither 0 nor the null output");
                unchanged += isZero ? 1 : 0;
            }
            Assert.Equal(config.QueryTokens(RealLengths[b]), unchanged);        // the routed queries
        }

        // padding invariance: the short row alone and unpadded gives the same outputs at its real tokens
        var real = RealLengths[1];
        using var row = hidden.Narrow(0, 1, 1).Narrow(1, 0, real).Contiguous();
        var alone = Run(config, row, Enumerable.Repeat(true, real).ToArray(), nullOutput);
        Closeness.Assert("short row alone", alone, with.Skip(n * d).Take(real * d).ToArray(), 1e-12);
    }

    // The layer's output (B·n·d) for one batch; the null output vector is set when given (else its initial 0).
    private static double[] Run(ModelConfig config, Tensor hidden, bool[] mask, double[]? nullOutput)
    {
        using var store = new ParameterStore(DType.Float64, null, new Generator(3));
        var root = store.Root();
        if (nullOutput is not null)
        {
            store.Add("attention.HeavyAttention.null_output.weight",
                Tensor.FromArray<double>(nullOutput, new Shape(nullOutput.Length)));
        }
        var light = new RelativeBias(root.Sub("light"), config.RelativeAttentionNumBuckets, config.LightHeads,
            config.RelativeAttentionMaxDistance, 0.1);
        var heavy = new RelativeBias(root.Sub("heavy"), config.RelativeAttentionNumBuckets, config.HeavyHeads,
            config.RelativeAttentionMaxDistance, 0.1);
        var attention = new ConditionalAttention(root.Sub("attention"), config,
            new Dropout(0, new Generator(1)));
        using var context = EncoderContext.Build(config, mask, hidden.Shape[0], hidden.Shape[1],
            new EncoderBiasTables(null, null, light, heavy), DType.Float64, store.Device);
        using var output = attention.Forward(hidden, context);
        return output.ToDoubleArray();
    }
}
