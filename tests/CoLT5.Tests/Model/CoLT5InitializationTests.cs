// T5 / LongT5 → CoLT5 initialisation: every copied tensor equals its source, the light and heavy branches are
// exactly the split dense heads and units (a routed token sees the dense FF again), the extra heavy units add
// nothing, routers are fresh, and sizes that cannot split the dense model are refused.
using System;
using System.Collections.Generic;
using System.Linq;
using CoLT5.Model;
using CoLT5.Model.Configuration;
using CoLT5.Model.Conversion;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;
using Xunit;

namespace CoLT5.Tests.Model;

[Trait("Category", "Model")]
public sealed class CoLT5InitializationTests
{
    private static Dictionary<string, double[]> Weights(Seq2SeqModel m) =>
        m.Parameters.Parameters.ToDictionary(p => p.Name, p => p.Tensor.ToDoubleArray());

    private static double[] Rows(double[] w, int columns, int from, int count) =>
        w.Skip(from * columns).Take(count * columns).ToArray();

    private static double[] Columns(double[] w, int columns, int from, int count) =>
        Enumerable.Range(0, w.Length / columns).SelectMany(r => w.Skip(r * columns + from).Take(count)).ToArray();

    [Theory]
    [InlineData("t5", "SelfAttention")]
    [InlineData("longt5-local", "LocalSelfAttention")]
    [InlineData("longt5-tglobal", "TransientGlobalSelfAttention")]
    public void TheBranchesSplitTheDenseHeadsAndUnits(string encoder, string attention)
    {
        var dense = ModelTestKit.Micro(encoder, kvHeads: 4) with { NumHeads = 4, DFf = 24 };
        using var source = Seq2SeqModel.Create(dense, seed: 3);
        using var colt5 = CoLT5Initialization.FromDense(source, new CoLT5ConversionOptions { LightHeads = 1 });
        var c = colt5.Config;
        Assert.Equal(EncoderType.CoLT5, c.Encoder);
        Assert.Equal((1, 3, 12, 96), (c.LightHeads, c.HeavyHeads, c.DFfLight, c.DFfHeavy));
        var src = Weights(source);
        var dst = Weights(colt5);
        int d = dense.DModel, dk = dense.DKv;

        // copied unchanged: everything outside the encoder blocks, and the encoder's norms
        foreach (var (name, values) in src.Where(p => !p.Key.StartsWith("encoder.block.", StringComparison.Ordinal)
                     || p.Key.EndsWith("layer_norm.weight", StringComparison.Ordinal)))
        {
            if (name.Contains("global_input_layer_norm", StringComparison.Ordinal))
                continue;
            Assert.Equal(values, dst[name]);
        }
        for (var i = 0; i < dense.NumLayers; i++)
        {
            var a = $"encoder.block.{i}.layer.0.";
            foreach (var proj in new[] { "q", "k", "v" })
            {
                var w = src[a + attention + $".{proj}.weight"];
                Assert.Equal(Rows(w, d, 0, dk), dst[a + $"LightAttention.{proj}.weight"]);
                Assert.Equal(Rows(w, d, dk, 3 * dk), dst[a + $"HeavyAttention.{proj}.weight"]);
            }
            var o = src[a + attention + ".o.weight"];
            Assert.Equal(Columns(o, 4 * dk, 0, dk), dst[a + "LightAttention.o.weight"]);
            Assert.Equal(Columns(o, 4 * dk, dk, 3 * dk), dst[a + "HeavyAttention.o.weight"]);

            var f = $"encoder.block.{i}.layer.1.";
            foreach (var wi in new[] { "wi_0", "wi_1" })
            {
                var w = src[f + $"DenseReluDense.{wi}.weight"];
                Assert.Equal(Rows(w, d, 0, 12), dst[f + $"LightFF.{wi}.weight"]);
                Assert.Equal(Rows(w, d, 12, 12), Rows(dst[f + $"HeavyFF.{wi}.weight"], d, 0, 12));
            }
            var wo = src[f + "DenseReluDense.wo.weight"];
            Assert.Equal(Columns(wo, 24, 0, 12), dst[f + "LightFF.wo.weight"]);
            var heavyWo = dst[f + "HeavyFF.wo.weight"];
            Assert.Equal(Columns(wo, 24, 12, 12), Columns(heavyWo, 96, 0, 12));
            Assert.All(Columns(heavyWo, 96, 12, 84), v => Assert.Equal(0.0, v));
            Assert.Contains(f + "router.weight", dst.Keys);
        }
        var table = src[$"encoder.block.0.layer.0.{attention}.relative_attention_bias.weight"];
        Assert.Equal(Columns(table, 4, 0, 1), dst["encoder.block.0.layer.0.LightAttention.relative_attention_bias.weight"]);
        Assert.Equal(Columns(table, 4, 1, 3), dst["encoder.block.0.layer.0.HeavyAttention.relative_attention_bias.weight"]);
    }

    /// <summary>The light FF plus the heavy FF's first units is the dense FF: for any input the two branches' sum
    /// equals the dense FF's output (the extra heavy units have zero output weights).</summary>
    [Fact]
    public void LightPlusHeavyFeedForwardEqualsTheDenseOne()
    {
        var dense = ModelTestKit.Micro("t5", kvHeads: 4) with { NumHeads = 4, DFf = 24 };
        using var source = Seq2SeqModel.Create(dense, seed: 5);
        using var colt5 = CoLT5Initialization.FromDense(source);
        var src = source.Parameters.Parameters.ToDictionary(p => p.Name, p => p.Tensor);
        var dst = colt5.Parameters.Parameters.ToDictionary(p => p.Name, p => p.Tensor);
        using var scope = DisposeScope.Enter();
        var x = Tensor.RandN(new Shape(7, dense.DModel), new Generator(9));
        Tensor Ff(IReadOnlyDictionary<string, Tensor> w, string prefix)
        {
            var gate = x.MatMul(w[prefix + "wi_0.weight"].Transpose(0, 1)).GeluTanh();
            var up = x.MatMul(w[prefix + "wi_1.weight"].Transpose(0, 1));
            return (gate * up).MatMul(w[prefix + "wo.weight"].Transpose(0, 1));
        }
        var want = Ff(src, "encoder.block.0.layer.1.DenseReluDense.").ToDoubleArray();
        var got = (Ff(dst, "encoder.block.0.layer.1.LightFF.") + Ff(dst, "encoder.block.0.layer.1.HeavyFF."))
            .ToDoubleArray();
        Testing.Closeness.Assert("light + heavy FF", got, want, 1e-5);
    }

    [Fact]
    public void SizesThatCannotSplitTheDenseModelAreRefused()
    {
        using var source = Seq2SeqModel.Create(ModelTestKit.Micro("t5", kvHeads: 4) with { NumHeads = 4, DFf = 24 }, seed: 1);
        Assert.Throws<ArgumentException>(() => CoLT5Initialization.FromDense(source, new() { LightHeads = 4 }));
        Assert.Throws<ArgumentException>(() => CoLT5Initialization.FromDense(source, new() { DFfLight = 24 }));
        Assert.Throws<ArgumentException>(() => CoLT5Initialization.FromDense(source, new() { DFfHeavy = 11 }));
        using var colt5 = CoLT5Initialization.FromDense(source);
        Assert.Throws<ArgumentException>(() => CoLT5Initialization.FromDense(colt5));
    }
}
