// Every encoder layer type through the fused attention kernel against the composed path (dense biases, blocks,
// 3-block windows): the real rows of the output and every parameter's gradient agree to rounding.
using System.Collections.Generic;
using System.Linq;
using CoLT5.Model.Layers;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;
using CoLT5.Tests.Testing;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Model;

public sealed class FusedEncoderLayerTests
{
    private static readonly Gen<(int Batch, int N, int Pad, ulong Seed)> Draws =
        from batch in Gen.Choose(1, 2)
        from n in Gen.Choose(1, 40)
        from pad in Gen.Choose(0, n - 1)
        from seed in TensorGen.Seed
        select (batch, n, pad, seed);

    /// <summary>Output real rows and parameter gradients to 1e-11 of their scale (float64).</summary>
    [Theory]
    [InlineData("t5")]
    [InlineData("longt5-local")]
    [InlineData("longt5-tglobal")]
    [InlineData("colt5")]
    public void FusedLayerMatchesComposedLayer(string encoder) => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        var config = ModelTestKit.Micro(encoder);
        using var store = LayerTestKit.Store(d.Seed);
        var tables = LayerTestKit.Tables(config, store);
        var layer = new EncoderLayer(store.Root("encoder.block.0"), config, LayerTestKit.NoDropout());
        var x = TensorGen.Normal([d.Batch, d.N, 16], d.Seed + 1);
        var mask = LayerTestKit.Trailing([.. Enumerable.Repeat(d.N, d.Batch - 1), d.N - d.Pad], d.N);
        var (fusedOut, fusedGrads) = Run(fused: true);
        var (composedOut, composedGrads) = Run(fused: false);
        Closeness.Assert($"{encoder} output", fusedOut, composedOut, 1e-11);
        foreach (var (name, want) in composedGrads)
            Closeness.Assert($"{encoder} d{name}", fusedGrads[name], want, 1e-11, absolute: 1e-13);

        (double[] Output, Dictionary<string, double[]> Grads) Run(bool fused)
        {
            var before = AttentionCore.PreferFused;
            AttentionCore.PreferFused = fused;
            try
            {
                foreach (var p in store.Parameters)
                    p.Tensor.Grad = null;
                using var context = LayerTestKit.Context(config, mask, d.Batch, d.N, tables);
                using var y = layer.Forward(x, context);
                using var real = LayerTestKit.RealRows(y, mask);
                using var weights = Tensor.RandN(real.Shape, new Generator(d.Seed + 2), dtype: DType.Float64);
                using var loss = (real * weights).Sum();
                loss.Backward();
                return (real.ToArray<double>(), store.Parameters.ToDictionary(p => p.Name,
                    p => p.Tensor.Grad?.ToArray<double>() ?? new double[p.Tensor.NumElements]));
            }
            finally
            {
                AttentionCore.PreferFused = before;
            }
        }
    }, name: nameof(FusedLayerMatchesComposedLayer) + "." + encoder);
}
