// Float64 central-difference gradient checks of the unrouted model modules (feed-forward, relative bias, full /
// causal / cross attention, local and transient-global attention, encoder and decoder layers), w.r.t. their inputs
// and a random half of their parameters.
using System;
using System.Linq;
using CoLT5.Model.Configuration;
using CoLT5.Model.Layers;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;
using CoLT5.Tests.Testing;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Model;

[Trait("Category", "Model")]
public sealed class ModuleGradientTests
{
    /// <summary>B rows of n tokens, the last row's final <see cref="Pad"/> tokens padding.</summary>
    public sealed record Draw(int Batch, int N, int Pad, ulong Seed)
    {
        public bool[] Mask => LayerTestKit.Trailing([.. Enumerable.Repeat(N, Batch - 1), N - Pad], N);

        public override string ToString() => $"B {Batch}, n {N} (last row {Pad} padding), seed {Seed}";
    }

    private static readonly Gen<Draw> Draws =
        from batch in Gen.Choose(1, 2)
        from n in Gen.Choose(1, 9)
        from pad in Gen.Choose(0, n - 1)
        from seed in TensorGen.Seed
        select new Draw(batch, n, pad, seed);

    private static ModelConfig Config(string encoder) => ModelTestKit.Micro(encoder);

    private static Tensor Input(Draw d, ulong salt = 0) => TensorGen.Normal([d.Batch, d.N, 16], d.Seed + 100 + salt);

    [Fact]
    public void GatedGeluFeedForward() => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        using var store = LayerTestKit.Store(d.Seed);
        var ff = new FeedForward(store.Root("ff"), 16, 24, relu: false, LayerTestKit.NoDropout());
        var x = Input(d);
        LayerTestKit.Gradients($"{d}", () => ff.Forward(x), [x], store, d.Seed);
    });

    /// <summary>The T5 1.0 ReLU block, on draws whose pre-activations stay 1e-4 from the kink (a ±1e-6 step moves
    /// them by about 1e-5 at most).</summary>
    [Fact]
    public void ReluFeedForward()
    {
        var checkedDraws = 0;
        Props.Check(Draws, d0 =>
        {
            using var scope = DisposeScope.Enter();
            using var store = LayerTestKit.Store(d0.Seed);
            var ff = new FeedForward(store.Root("ff"), 16, 24, relu: true, LayerTestKit.NoDropout());
            var wi = store.Find("ff.wi.weight")!;
            if (LayerTestKit.FirstFit(d0.Seed, s => AwayFromKink(Input(d0 with { Seed = s }), wi)) is not { } seed)
                return;
            var x = Input(d0 with { Seed = seed });
            LayerTestKit.Gradients($"{d0} (seed {seed})", () => ff.Forward(x), [x], store, seed);
            checkedDraws++;
        });
        Assert.True(checkedDraws >= Props.Tests / 2, $"only {checkedDraws} draws were fit for finite differences");
    }

    private static bool AwayFromKink(Tensor x, Tensor wi)
    {
        using var noGrad = Tensor.NoGrad();
        using var pre = Tensor.MatMul(x, wi, transposeB: true);
        return pre.ToDoubleArray().All(v => Math.Abs(v) >= 1e-4);
    }

    /// <summary>A small table (8 buckets, max distance 12, 1–3 heads: checked entry by entry) through every
    /// expansion: full bidirectional and causal with a query offset, blocked local, explicit offsets.</summary>
    [Fact]
    public void RelativeBiasTable() => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        using var store = LayerTestKit.Store(d.Seed);
        var heads = 1 + (int)(d.Seed % 3);
        var table = new RelativeBias(store.Root("bias"), 8, heads, 12, 0.5);
        var g = new Generator(d.Seed + 1);
        var offsets = Enumerable.Range(0, d.Batch * d.N * 5).Select(_ => g.NextInt(41) - 20).ToArray();
        LayerTestKit.Gradients($"{d} full", () => table.Full(d.N, d.N + 3, bidirectional: true), [], store, d.Seed, 1);
        LayerTestKit.Gradients($"{d} causal", () => table.Full(d.N, d.N + 4, bidirectional: false, queryOffset: 4), [],
            store, d.Seed, 1);
        LayerTestKit.Gradients($"{d} blocked", () => table.Blocked(1 + d.N % 5), [], store, d.Seed, 1);
        LayerTestKit.Gradients($"{d} offsets", () => table.FromOffsets(offsets, d.Batch, d.N, 5, bidirectional: true),
            [], store, d.Seed, 1);
    });

    /// <summary>T5 encoder self-attention: relative bias (built inside, so the table is checked) plus key
    /// padding.</summary>
    [Fact]
    public void FullSelfAttention() => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        var config = Config("t5");
        using var store = LayerTestKit.Store(d.Seed);
        var tables = LayerTestKit.Tables(config, store);
        var attention = new MultiHeadAttention(store.Root("SelfAttention"), 16, 4, 4, 4, LayerTestKit.NoDropout());
        var x = Input(d);
        Tensor F()
        {
            using var context = LayerTestKit.Context(config, d.Mask, d.Batch, d.N, tables);
            using var y = attention.Forward(x, context.FullBias);
            return LayerTestKit.RealRows(y, d.Mask);
        }
        LayerTestKit.Gradients($"{d}", F, [x], store, d.Seed);
    });

    /// <summary>Decoder self-attention with the causal bias (table inside) and the key/value cache path: t₁ tokens,
    /// then t₂ more attending to the cached ones.</summary>
    [Fact]
    public void CausalSelfAttentionWithCache() => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        using var store = LayerTestKit.Store(d.Seed);
        var table = new RelativeBias(store.Root("bias"), 32, 4, 128, 0.5);
        var attention = new MultiHeadAttention(store.Root("SelfAttention"), 16, 4, 4, 4, LayerTestKit.NoDropout());
        int first = 1 + d.Pad, second = d.N;
        var x1 = TensorGen.Normal([d.Batch, first, 16], d.Seed + 1);
        var x2 = TensorGen.Normal([d.Batch, second, 16], d.Seed + 2);
        Tensor F()
        {
            var (k1, v1) = attention.KeysValues(x1);
            using var bias1 = LayerTestKit.CausalBias(table, first, 0);
            using var out1 = attention.Forward(x1, k1, v1, bias1);
            var (k2, v2) = attention.KeysValues(x2);
            using var keys = Tensor.Cat([k1, k2], 2);
            using var values = Tensor.Cat([v1, v2], 2);
            using var bias2 = LayerTestKit.CausalBias(table, second, first);
            using var out2 = attention.Forward(x2, keys, values, bias2);
            return Tensor.Cat([out1, out2], 1);
        }
        LayerTestKit.Gradients($"{d}", F, [x1, x2], store, d.Seed);
    });

    /// <summary>Decoder cross-attention with 1 (MQA), 2 (GQA) or 4 (MHA) key/value heads over a padded encoder
    /// output.</summary>
    [Fact]
    public void CrossAttentionWithSharedKeyValueHeads() => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        using var store = LayerTestKit.Store(d.Seed);
        var kvHeads = new[] { 1, 2, 4 }[d.Seed % 3];
        var attention = new MultiHeadAttention(store.Root("EncDecAttention"), 16, 4, kvHeads, 4,
            LayerTestKit.NoDropout());
        var x = TensorGen.Normal([d.Batch, 1 + d.Pad, 16], d.Seed + 1);
        var encoded = Input(d);
        using var mask = LayerTestKit.CrossMask(d.Mask, d.Batch, d.N);
        Tensor F()
        {
            var (k, v) = attention.KeysValues(encoded);
            using (k)
            using (v)
                return attention.Forward(x, k, v, mask);
        }
        LayerTestKit.Gradients($"{d}, {kvHeads} kv heads", F, [x, encoded], store, d.Seed);
    });

    /// <summary>LongT5 local attention and transient-global attention (global tokens, their norm, side bias).</summary>
    [Theory]
    [InlineData("longt5-local")]
    [InlineData("longt5-tglobal")]
    public void BlockedSelfAttention(string encoder) => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        var config = Config(encoder);
        using var store = LayerTestKit.Store(d.Seed);
        var tables = LayerTestKit.Tables(config, store);
        var attention = new BlockedSelfAttention(store.Root("Attention"), 16, 4, 4, 1e-6,
            transientGlobal: config.Encoder == EncoderType.LongT5TGlobal, LayerTestKit.NoDropout());
        var x = TensorGen.Normal([d.Batch, d.N + 4, 16], d.Seed + 100);   // up to 13 tokens: 4 blocks, 3 globals
        var mask = LayerTestKit.Trailing([.. Enumerable.Repeat(d.N + 4, d.Batch - 1), d.N + 4 - d.Pad], d.N + 4);
        Tensor F()
        {
            using var context = LayerTestKit.Context(config, mask, d.Batch, d.N + 4, tables);
            using var y = attention.Forward(x, context);
            return LayerTestKit.RealRows(y, mask);
        }
        LayerTestKit.Gradients($"{encoder} {d}", F, [x], store, d.Seed);
    }, name: nameof(BlockedSelfAttention) + "." + encoder);

    /// <summary>Whole encoder blocks of the unrouted types (the CoLT5 block is in RoutedGradientTests).</summary>
    [Theory]
    [InlineData("t5")]
    [InlineData("longt5-local")]
    [InlineData("longt5-tglobal")]
    public void EncoderLayer(string encoder) => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        var config = Config(encoder);
        using var store = LayerTestKit.Store(d.Seed);
        var tables = LayerTestKit.Tables(config, store);
        var layer = new EncoderLayer(store.Root("encoder.block.0"), config, LayerTestKit.NoDropout());
        var x = Input(d);
        Tensor F()
        {
            using var context = LayerTestKit.Context(config, d.Mask, d.Batch, d.N, tables);
            using var y = layer.Forward(x, context);
            return LayerTestKit.RealRows(y, d.Mask);
        }
        LayerTestKit.Gradients($"{encoder} {d}", F, [x], store, d.Seed);
    }, name: nameof(EncoderLayer) + "." + encoder);

    /// <summary>A decoder block run in two chunks through its cache (causal self-attention, MQA/GQA/MHA
    /// cross-attention over a padded encoder output, feed-forward): gradients reach both chunks and the encoder
    /// output.</summary>
    [Fact]
    public void DecoderLayer() => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        var kvHeads = new[] { 1, 2, 4 }[d.Seed % 3];
        var config = Config("colt5") with { NumCrossKvHeads = kvHeads };
        using var store = LayerTestKit.Store(d.Seed);
        var table = new RelativeBias(store.Root("decoder.bias"), 32, 4, 128, 0.5);
        var layer = new DecoderLayer(store.Root("decoder.block.0"), config, LayerTestKit.NoDropout());
        int first = 1 + d.Pad % 3, second = 1 + d.N % 3;
        var x1 = TensorGen.Normal([d.Batch, first, 16], d.Seed + 1);
        var x2 = TensorGen.Normal([d.Batch, second, 16], d.Seed + 2);
        var encoded = Input(d);
        using var mask = LayerTestKit.CrossMask(d.Mask, d.Batch, d.N);
        Tensor F()
        {
            using var cache = new LayerCache();
            (cache.CrossKeys, cache.CrossValues) = layer.CrossKeysValues(encoded);
            using var bias1 = LayerTestKit.CausalBias(table, first, 0);
            using var out1 = layer.Forward(x1, bias1, mask, cache);
            using var bias2 = LayerTestKit.CausalBias(table, second, first);
            using var out2 = layer.Forward(x2, bias2, mask, cache);
            return Tensor.Cat([out1, out2], 1);
        }
        LayerTestKit.Gradients($"{d}, {kvHeads} kv heads", F, [x1, x2, encoded], store, d.Seed);
    });
}
