// MQA / GQA / MHA cross-attention (D12): the module's decoder path equals plain attention written out in loops, GQA
// with G groups equals MHA whose key/value heads are the groups' repeated, and so does a whole model's logits.
using System;
using System.Linq;
using CoLT5.Model;
using CoLT5.Model.Layers;
using CoLT5.Nn;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;
using CoLT5.Tests.Testing;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Model;

[Trait("Category", "Model")]
public sealed class CrossAttentionHeadsTests
{
    /// <summary>H query heads sharing G key/value heads of width dk; T queries over S encoder positions.</summary>
    public sealed record Draw(int Batch, int Heads, int KvHeads, int DKv, int T, int S, ulong Seed)
    {
        public override string ToString() =>
            $"B {Batch}, H {Heads}, G {KvHeads}, dk {DKv}, t {T}, n {S}, seed {Seed}";
    }

    private const int DModel = 8;

    private static readonly Gen<Draw> Draws =
        from batch in Gen.Choose(1, 3)
        from heads in Gen.Elements(1, 2, 4, 6)
        from kvHeads in Gen.Elements(Enumerable.Range(1, heads).Where(g => heads % g == 0).ToArray())
        from dkv in Gen.Choose(1, 4)
        from t in Gen.Choose(1, 5)
        from s in Gen.Choose(1, 7)
        from seed in TensorGen.Seed
        select new Draw(batch, heads, kvHeads, dkv, t, s, seed);

    // The decoder's path: keys/values of the encoder output, then queries of x over them with an additive mask.
    private static double[] CrossAttend(MultiHeadAttention attention, Tensor x, Tensor encoded, Tensor mask)
    {
        var (k, v) = attention.KeysValues(encoded);
        using (k)
        using (v)
        using (var output = attention.Forward(x, k, v, mask))
            return output.ToDoubleArray();
    }

    // An additive mask (B, H, T, S): N(0, 1) bias, and −1e10 on about a quarter of the keys (never a whole row).
    private static Tensor Mask(Draw d, Generator g)
    {
        var values = new double[d.Batch * d.Heads * d.T * d.S];
        for (var r = 0; r < values.Length / d.S; r++)
        {
            var open = g.NextInt(d.S);
            for (var j = 0; j < d.S; j++)
                values[r * d.S + j] = j != open && g.NextInt(4) == 0 ? EncoderContext.MaskValue : g.NextNormal();
        }
        return Tensor.FromArray<double>(values, new Shape(d.Batch, d.Heads, d.T, d.S));
    }

    [Fact]
    public void MatchesAttentionWrittenOutInLoops() => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        using var store = LayerTestKit.Store(d.Seed);
        var attention = new MultiHeadAttention(store.Root("EncDecAttention"), DModel, d.Heads, d.KvHeads, d.DKv,
            LayerTestKit.NoDropout());
        var g = new Generator(d.Seed + 1);
        using var noGrad = Tensor.NoGrad();
        var x = Tensor.RandN(new Shape(d.Batch, d.T, DModel), g, dtype: DType.Float64);
        var encoded = Tensor.RandN(new Shape(d.Batch, d.S, DModel), g, dtype: DType.Float64);
        var mask = Mask(d, g);
        double[] W(string name) => store.Find($"EncDecAttention.{name}.weight")!.ToDoubleArray();
        var want = Reference(d, x.ToDoubleArray(), encoded.ToDoubleArray(), mask.ToDoubleArray(), W("q"), W("k"),
            W("v"), W("o"));
        Closeness.Assert(d.ToString(), CrossAttend(attention, x, encoded, mask), want, 1e-12);
    });

    // out[b, t] = Σ_h o_h · Σ_s softmax_s(q_h(x_t)·k_g(e_s) + mask) v_g(e_s), with g = h / (H / G).
    private static double[] Reference(Draw d, double[] x, double[] e, double[] mask, double[] wq, double[] wk,
        double[] wv, double[] wo)
    {
        int dk = d.DKv, perGroup = d.Heads / d.KvHeads;
        // row r of (rows, in) times the (out, in) weight's rows [from, from + dk)
        static double[] Project(double[] input, int row, double[] w, int from, int dk)
        {
            var y = new double[dk];
            for (var j = 0; j < dk; j++)
            {
                for (var i = 0; i < DModel; i++)
                    y[j] += input[row * DModel + i] * w[(from + j) * DModel + i];
            }
            return y;
        }
        var output = new double[d.Batch * d.T * DModel];
        for (var b = 0; b < d.Batch; b++)
        {
            for (var t = 0; t < d.T; t++)
            {
                var context = new double[d.Heads * dk];
                for (var h = 0; h < d.Heads; h++)
                {
                    var group = h / perGroup;
                    var q = Project(x, b * d.T + t, wq, h * dk, dk);
                    var keys = Enumerable.Range(0, d.S)
                        .Select(s => Project(e, b * d.S + s, wk, group * dk, dk)).ToArray();
                    var values = Enumerable.Range(0, d.S)
                        .Select(s => Project(e, b * d.S + s, wv, group * dk, dk)).ToArray();
                    var row = ((b * d.Heads + h) * d.T + t) * d.S;
                    var logits = Enumerable.Range(0, d.S)
                        .Select(s => q.Zip(keys[s], (a, c) => a * c).Sum() + mask[row + s]).ToArray();
                    var max = logits.Max();
                    var p = logits.Select(l => Math.Exp(l - max)).ToArray();
                    var total = p.Sum();
                    for (var s = 0; s < d.S; s++)
                    {
                        for (var j = 0; j < dk; j++)
                            context[h * dk + j] += p[s] / total * values[s][j];
                    }
                }
                for (var o = 0; o < DModel; o++)
                {
                    for (var i = 0; i < context.Length; i++)
                        output[(b * d.T + t) * DModel + o] += context[i] * wo[o * context.Length + i];
                }
            }
        }
        return output;
    }

    [Fact]
    public void GroupedEqualsMultiHeadWithRepeatedKeyValueHeads() => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        using var grouped = LayerTestKit.Store(d.Seed);
        var gqa = new MultiHeadAttention(grouped.Root("a"), DModel, d.Heads, d.KvHeads, d.DKv,
            LayerTestKit.NoDropout());
        using var full = new ParameterStore(DType.Float64);
        foreach (var (name, tensor) in grouped.Parameters)
        {
            var kv = name is "a.k.weight" or "a.v.weight";
            full.Add(name, kv ? RepeatHeads(tensor, d.Heads, d.KvHeads) : Copy(tensor));
        }
        var mha = new MultiHeadAttention(full.Root("a"), DModel, d.Heads, d.Heads, d.DKv, LayerTestKit.NoDropout());
        Assert.Empty(full.Created);
        var g = new Generator(d.Seed + 1);
        using var noGrad = Tensor.NoGrad();
        var x = Tensor.RandN(new Shape(d.Batch, d.T, DModel), g, dtype: DType.Float64);
        var encoded = Tensor.RandN(new Shape(d.Batch, d.S, DModel), g, dtype: DType.Float64);
        var mask = Mask(d, g);
        Closeness.Assert(d.ToString(), CrossAttend(gqa, x, encoded, mask), CrossAttend(mha, x, encoded, mask), 1e-12);
    });

    /// <summary>A whole model with G cross-attention kv heads gives the logits of its MHA twin whose cross k/v
    /// weights repeat each group's head H/G times (GQA checkpoint conversion run backwards).</summary>
    [Theory]
    [InlineData("colt5", 1)]
    [InlineData("t5", 2)]
    [InlineData("longt5-tglobal", 1)]
    public void ModelWithGroupedCrossAttentionEqualsItsMultiHeadTwin(string encoder, int kvHeads)
    {
        using var scope = DisposeScope.Enter();
        var config = ModelTestKit.Micro(encoder, kvHeads);
        using var model = Seq2SeqModel.Create(config, 21, DType.Float64);
        var twinConfig = config with { NumCrossKvHeads = config.NumHeads };
        var store = new ParameterStore(DType.Float64);
        foreach (var (name, tensor) in model.Parameters.Parameters)
        {
            var crossKv = name.Contains("EncDecAttention.k.", StringComparison.Ordinal)
                || name.Contains("EncDecAttention.v.", StringComparison.Ordinal);
            store.Add(name, crossKv ? RepeatHeads(tensor, config.NumHeads, kvHeads) : Copy(tensor));
        }
        using var twin = new Seq2SeqModel(twinConfig, store);
        Assert.Empty(store.Created);
        var (ids, mask) = ModelTestKit.Inputs(2, 9, config.VocabSize, 4, padLastRow: 3);
        var (decoderIds, _) = ModelTestKit.Targets(2, 5, config.VocabSize, 6);
        using var noGrad = Tensor.NoGrad();
        using var want = model.Forward(ids, mask, decoderIds);
        using var got = twin.Forward(ids, mask, decoderIds);
        Closeness.Assert($"{encoder}, G {kvHeads}", got.Logits.ToDoubleArray(), want.Logits.ToDoubleArray(), 1e-12);
    }

    // (G·dk, d) → (H·dk, d): head h of the result is group h / (H/G) of the input.
    private static Tensor RepeatHeads(Tensor weight, int heads, int kvHeads)
    {
        int rows = weight.Shape[0], d = weight.Shape[1], dk = rows / kvHeads;
        var w = weight.ToDoubleArray();
        var repeated = new double[heads * dk * d];
        for (var h = 0; h < heads; h++)
            Array.Copy(w, h / (heads / kvHeads) * dk * d, repeated, h * dk * d, dk * d);
        return Tensor.FromArray<double>(repeated, new Shape(heads * dk, d));
    }

    private static Tensor Copy(Tensor t) => Tensor.FromArray<double>(t.ToDoubleArray(), t.Shape);
}
