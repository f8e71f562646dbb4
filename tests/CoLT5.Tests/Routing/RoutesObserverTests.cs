// The routing observer: what a layer reports is exactly what its routers chose (positions, validity, weights, raw
// scores, router kind, layer index), observing never changes the encoder output, and only CoLT5 encoders report.
using System;
using System.Collections.Generic;
using System.Linq;
using CoLT5.Model;
using CoLT5.Model.Analysis;
using CoLT5.Model.Configuration;
using CoLT5.Model.Layers;
using CoLT5.Tensors.Memory;
using CoLT5.Tests.Model;
using CoLT5.Tests.Testing;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Routing;

public sealed class RoutesObserverTests
{
    private static readonly int[] Valid = [14, 9];
    private const int Length = 14;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FeedForwardReportsItsRoutersDecision(bool training)
    {
        using var scope = DisposeScope.Enter();
        var config = ModelTestKit.Micro("colt5");
        using var store = LayerTestKit.Store(3);
        var ff = new ConditionalFeedForward(store.Root("ff"), config, LayerTestKit.NoDropout());
        var twin = new Router(store.Root("ff").Sub("router"), config);        // the same u, read from the store
        ff.Train(training);
        twin.Train(training);
        using var h = TensorGen.Normal([Valid.Length, Length, config.DModel], seed: 5);
        var (context, trace) = Observed(config, store, layer: 1);
        using (context)
        {
            using var output = ff.Forward(h, context);
            using var expected = twin.Forward(h, context, config.FfTokens);
            Assert.Single(trace.Observations);
            AssertSame(expected, trace[1, RouterKind.FeedForward], Length);
        }
    }

    [Fact]
    public void AttentionReportsItsQueryAndKeyValueRouters()
    {
        using var scope = DisposeScope.Enter();
        var config = ModelTestKit.Micro("colt5");
        using var store = LayerTestKit.Store(4);
        var attention = new ConditionalAttention(store.Root("att"), config, LayerTestKit.NoDropout());
        var queries = new Router(store.Root("att").Sub("q_router"), config);
        var keyValues = new Router(store.Root("att").Sub("kv_router"), config);
        foreach (var module in new CoLT5.Nn.Modules.Module[] { attention, queries, keyValues })
            module.Eval();
        using var h = TensorGen.Normal([Valid.Length, Length, config.DModel], seed: 6);
        var (context, trace) = Observed(config, store, layer: 0);
        using (context)
        {
            using var output = attention.Forward(h, context);
            using var q = queries.Forward(h, context, config.QueryTokens);
            using var kv = keyValues.Forward(h, context, config.KeyValueTokens);
            Assert.Equal(new[] { RouterKind.Query, RouterKind.KeyValue }, trace.Observations.Select(o => o.Kind));
            AssertSame(q, trace[0, RouterKind.Query], Length);
            AssertSame(kv, trace[0, RouterKind.KeyValue], Length);
        }
    }

    /// <summary>Whole models: the output with an observer is bit-identical to the output without, for padded
    /// batches of random lengths, and the trace holds every layer's three routers with consistent selections.</summary>
    [Fact]
    public void ObservingNeverChangesTheEncoderOutput()
    {
        var config = ModelTestKit.Micro("colt5");
        using var model = Seq2SeqModel.Create(config, seed: 2);
        model.Eval();
        var gen = from n in Gen.Choose(2, 24)
                  from pad in Gen.Choose(0, n - 1)
                  from seed in TensorGen.Seed
                  select (n, pad, seed);
        Props.Check(gen, c =>
        {
            using var scope = DisposeScope.Enter();
            var (ids, mask) = ModelTestKit.Inputs(2, c.n, config.VocabSize, c.seed, padLastRow: c.pad);
            using (ids)
            {
                using var plain = model.Encode(ids, mask);
                var trace = new RoutingTrace();
                using var observed = model.Encode(ids, mask, trace);
                Assert.Equal(plain.ToArray<float>(), observed.ToArray<float>());     // bit for bit
                Assert.True(trace.IsComplete);
                Assert.Equal(config.NumLayers, trace.Layers);
                Assert.Equal(3 * config.NumLayers, trace.Observations.Count);
                foreach (var o in trace.Observations)
                    AssertConsistent(config, o, mask, c.n);
            }
        });
    }

    /// <summary>With no observer attached, reporting a route is a null check: no allocation, no download.</summary>
    [Fact]
    public void ReportingWithoutAnObserverAllocatesNothing()
    {
        using var scope = DisposeScope.Enter();
        var config = ModelTestKit.Micro("colt5");
        using var store = LayerTestKit.Store(7);
        var router = new Router(store.Root("router"), config);
        using var h = TensorGen.Normal([Valid.Length, Length, config.DModel], seed: 8);
        using var context = LayerTestKit.Context(config, LayerTestKit.Trailing(Valid, Length), Valid.Length, Length,
            LayerTestKit.Tables(config, store));
        using var route = router.Forward(h, context, config.FfTokens);
        context.Observe(RouterKind.FeedForward, route);                        // warm up (JIT)
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
            context.Observe(RouterKind.FeedForward, route);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData("t5")]
    [InlineData("longt5-local")]
    [InlineData("longt5-tglobal")]
    public void EncodersWithoutRoutersReportNothing(string encoder)
    {
        using var scope = DisposeScope.Enter();
        using var model = Seq2SeqModel.Create(ModelTestKit.Micro(encoder), seed: 1);
        var (ids, mask) = ModelTestKit.Inputs(1, 8, 40, seed: 3);
        var trace = new RoutingTrace();
        using (ids)
        using (var output = model.Encode(ids, mask, trace))
            Assert.Empty(trace.Observations);
        Assert.False(trace.IsComplete);
    }

    [Fact]
    public void ATraceBelongsToOneForward()
    {
        var trace = new RoutingTrace();
        var o = new RouterObservation(0, RouterKind.Query, 1, 2, 1, [1], [true], [0.5], [0.1, 0.9]);
        trace.OnRoute(o);
        var e = Assert.Throws<InvalidOperationException>(() => trace.OnRoute(o));
        Assert.Contains("layer 0's Query router reported twice", e.Message, StringComparison.Ordinal);
        Assert.Throws<KeyNotFoundException>(() => trace[0, RouterKind.KeyValue]);
        Assert.Equal(new[] { (1, 0.5) }, o.Routed(0));
        Assert.Equal(new[] { 0.0, 0.5 }, o.WeightPerToken(0));
    }

    private static (EncoderContext Context, RoutingTrace Trace) Observed(ModelConfig config,
        CoLT5.Nn.ParameterStore store, int layer)
    {
        var context = LayerTestKit.Context(config, LayerTestKit.Trailing(Valid, Length), Valid.Length, Length,
            LayerTestKit.Tables(config, store));
        var trace = new RoutingTrace();
        context.RoutingObserver = trace;
        context.Layer = layer;
        return (context, trace);
    }

    private static void AssertSame(Route expected, RouterObservation observed, int length)
    {
        Assert.Equal(expected.Batch, observed.Batch);
        Assert.Equal(expected.Slots, observed.Slots);
        Assert.Equal(length, observed.Length);
        Assert.Equal(expected.Positions, observed.Positions);
        Assert.Equal(expected.SlotValid, observed.SlotValid);
        Assert.Equal(expected.Weights.ToDoubleArray(), observed.Weights);       // exactly the multiplied weights
        Assert.Equal(expected.RawScores, observed.Scores);
    }

    // Real tokens only, the configured count per row, the highest raw scores (ties to the lower position), weights
    // in (0, 1] and 0 on padding slots.
    private static void AssertConsistent(ModelConfig config, RouterObservation o, bool[] mask, int n)
    {
        Func<int, int> count = o.Kind switch
        {
            RouterKind.FeedForward => config.FfTokens,
            RouterKind.Query => config.QueryTokens,
            _ => config.KeyValueTokens,
        };
        Assert.Equal(2 * n, o.Scores.Length);
        for (var b = 0; b < o.Batch; b++)
        {
            var real = Enumerable.Range(0, n).Where(i => mask[b * n + i]).ToArray();
            var k = Math.Min(real.Length, count(real.Length));
            var expected = real.OrderByDescending(i => o.Scores[b * n + i]).ThenBy(i => i).Take(k).Order();
            var routed = o.Routed(b);
            Assert.Equal(expected, routed.Select(r => r.Position));
            Assert.All(routed, r => Assert.InRange(r.Weight, 1e-30, 1 + 1e-6));
            for (var s = 0; s < o.Slots; s++)
            {
                if (!o.SlotValid[b * o.Slots + s])
                    Assert.Equal(0.0, o.Weights[b * o.Slots + s]);
            }
        }
    }
}
