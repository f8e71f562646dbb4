// The CoLT5 router on a padded batch whose rows route different numbers of tokens: the whole batch is normalised by
// one soft top-k call with a budget per row, and every row is routed exactly as it would be on its own, unpadded.
using System.Collections.Generic;
using System.Linq;
using CoLT5.Model.Layers;
using CoLT5.Nn;
using CoLT5.Tensors;
using CoLT5.Tensors.Autograd;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;
using CoLT5.Tests.Model;
using CoLT5.Tests.Testing;
using Xunit;

namespace CoLT5.Tests.Routing;

public sealed class RouterTests
{
    private const int Width = 16;
    private static readonly int[] RealLengths = [16, 11, 7];

    // Routes a third of each row's real tokens: 5, 3 and 2, so the training budgets 9/8·k differ from row to row.
    private static int Count(int real) => real / 3;

    [Fact]
    public void RowsWithDifferentBudgetsAreNormalisedInOneCall()
    {
        using var scope = DisposeScope.Enter();
        var (router, store, hidden) = Setup();
        using (store)
        {
            var n = RealLengths.Max();
            var mask = Enumerable.Range(0, RealLengths.Length * n).Select(i => i % n < RealLengths[i / n]).ToArray();
            using var context = Context(store, mask, RealLengths.Length, n);
            using var route = router.Forward(hidden, context, Count);
            Assert.Equal(5, route.Slots);
            Assert.Equal(1, Nodes(route.Weights, "soft_top_k_backward"));
        }
    }

    [Fact]
    public void EachRowIsRoutedAsItWouldBeAloneAndUnpadded()
    {
        using var scope = DisposeScope.Enter();
        var (router, store, hidden) = Setup();
        using (store)
        {
            int batch = RealLengths.Length, n = RealLengths.Max();
            var mask = Enumerable.Range(0, batch * n).Select(i => i % n < RealLengths[i / n]).ToArray();
            using var context = Context(store, mask, batch, n);
            using var route = router.Forward(hidden, context, Count);
            var weights = route.Weights.ToDoubleArray();
            for (var b = 0; b < batch; b++)
            {
                var real = RealLengths[b];
                using var row = hidden.Narrow(0, b, 1).Narrow(1, 0, real);
                using var alone = Context(store, Enumerable.Repeat(true, real).ToArray(), 1, real);
                using var single = router.Forward(row, alone, Count);
                var k = Count(real);
                Assert.Equal(single.Positions, route.Positions.Skip(b * route.Slots).Take(k));
                Assert.All(route.SlotValid.Skip(b * route.Slots).Take(route.Slots), (valid, s) => Assert.Equal(s < k, valid));
                Closeness.Assert($"row {b} weights", single.Weights.ToDoubleArray(),
                    weights.Skip(b * route.Slots).Take(k).ToArray(), 1e-12);
                Assert.All(weights.Skip(b * route.Slots + k).Take(route.Slots - k), w => Assert.Equal(0.0, w));
            }
        }
    }

    // A float64 router in training mode (budget 9/8·k) and random hidden states (B, n, d).
    private static (Router Router, ParameterStore Store, Tensor Hidden) Setup()
    {
        var config = ModelTestKit.Micro("colt5") with { DModel = Width };
        var store = new ParameterStore(DType.Float64, null, new Generator(5));
        var router = new Router(store.Root().Sub("router"), config);
        var g = new Generator(9);
        var values = new double[RealLengths.Length * RealLengths.Max() * Width];
        for (var i = 0; i < values.Length; i++)
            values[i] = g.NextDouble() * 2 - 1;
        var hidden = Tensor.FromArray<double>(values, new Shape(RealLengths.Length, RealLengths.Max(), Width),
            store.Device);
        return (router, store, hidden);
    }

    private static EncoderContext Context(ParameterStore store, bool[] mask, int batch, int n)
    {
        var config = ModelTestKit.Micro("colt5") with { DModel = Width };
        var light = new RelativeBias(store.Root().Sub("light"), config.RelativeAttentionNumBuckets,
            config.LightHeads, config.RelativeAttentionMaxDistance, 0.1);
        return EncoderContext.Build(config, mask, batch, n, new EncoderBiasTables(null, null, light, null),
            DType.Float64, store.Device);
    }

    // Autograd nodes called `name` reachable from `output`.
    private static int Nodes(Tensor output, string name)
    {
        var seen = new HashSet<GradFn>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<GradFn>();
        if (output.GradFn is { } root)
            pending.Push(root);
        var count = 0;
        while (pending.TryPop(out var node))
        {
            if (!seen.Add(node))
                continue;
            count += node.Name == name ? 1 : 0;
            foreach (var input in node.Inputs)
            {
                if (input?.GradFn is { } next)
                    pending.Push(next);
            }
        }
        return count;
    }
}
