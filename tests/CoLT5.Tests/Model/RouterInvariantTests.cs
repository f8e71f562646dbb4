// Router invariants (spec §2.1, §8, D5, D8): min(k, real) tokens per row, never padding, weights in [0, 1] equal to
// the soft top-k λ at the top raw scores (λ sums to k'), routing follows a permutation of the tokens, n ≤ k routes all.
using System;
using System.Collections.Generic;
using System.Linq;
using CoLT5.Model.Configuration;
using CoLT5.Model.Layers;
using CoLT5.Nn.Functional;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;
using CoLT5.Tests.Testing;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Model;

[Trait("Category", "Model")]
public sealed class RouterInvariantTests
{
    /// <summary>A routing problem: B rows of n tokens (some padding, scattered or trailing, possibly a whole row),
    /// k tokens to route per row, training (k' = 9/8·k) or evaluation (k' = k).</summary>
    public sealed record Draw(int Batch, int N, int K, bool Scattered, bool Training, ulong Seed)
    {
        public override string ToString() =>
            $"B {Batch}, n {N}, k {K}, {(Scattered ? "scattered" : "trailing")} padding, " +
            $"{(Training ? "training" : "eval")}, seed {Seed}";
    }

    private static readonly Gen<Draw> Draws =
        from batch in Gen.Choose(1, 3)
        from n in Gen.Elements(1, 2, 3, 5, 7, 12, 17)
        from k in Gen.Choose(1, 6)
        from scattered in Gen.Elements(true, false)
        from training in Gen.Elements(true, false)
        from seed in TensorGen.Seed
        select new Draw(batch, n, k, scattered, training, seed);

    // The paper's ε = 1, run to convergence: after 200 rounds the rows sum to k' within 2e-11 here (measured over
    // 200 router draws), where the paper's 50 rounds leave up to 1.7e-4 of k' when a token saturates at λ = 1.
    private static readonly ModelConfig Config = ModelTestKit.Micro("colt5") with { RouterIters = 200 };

    private static bool[] Mask(Draw d)
    {
        var g = new Generator(d.Seed ^ 0xA5A5);
        var mask = new bool[d.Batch * d.N];
        for (var b = 0; b < d.Batch; b++)
        {
            var valid = g.NextInt(d.N + 1);                        // 0..n real tokens (a row may be all padding)
            for (var i = 0; i < d.N; i++)
                mask[b * d.N + i] = d.Scattered ? g.NextInt(d.N) < valid : i < valid;
        }
        return mask;
    }

    private static Route RouteOf(Router router, Tensor h, Draw d, bool[] mask, EncoderBiasTables tables)
    {
        using var context = LayerTestKit.Context(Config, mask, d.Batch, d.N, tables);
        return router.Forward(h, context, _ => d.K);
    }

    [Fact]
    public void RoutesTheTopRealTokensWithTheSoftTopKWeights() => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        using var store = LayerTestKit.Store(d.Seed);
        var router = new Router(store.Root("router"), Config);
        router.Train(d.Training);
        var tables = LayerTestKit.Tables(Config, store);
        var mask = Mask(d);
        using var noGrad = Tensor.NoGrad();
        var h = TensorGen.Normal([d.Batch, d.N, Config.DModel], d.Seed + 1);
        using var route = RouteOf(router, h, d, mask, tables);
        var scores = LayerTestKit.Scores(h, router.Weight);
        var weights = route.Weights.ToDoubleArray();
        var budgets = LayerTestKit.Budgets(Config, mask, d.Batch, _ => d.K, d.Training);
        var lambda = Lambda(scores, mask, d, budgets);
        var slots = route.Slots;
        Assert.Equal(new Shape(d.Batch, slots), route.Weights.Shape);
        for (var b = 0; b < d.Batch; b++)
        {
            var real = Enumerable.Range(0, d.N).Where(i => mask[b * d.N + i]).ToArray();
            var expected = Math.Min(d.K, real.Length);
            var chosen = Enumerable.Range(0, slots).Where(s => route.SlotValid[b * slots + s])
                .Select(s => route.Positions[b * slots + s]).ToArray();
            // exactly min(k, real) tokens, in ascending order, all real, and the highest raw scores
            Assert.True(chosen.Length == expected, $"{d}: row {b} routes {chosen.Length} tokens, expected {expected}");
            Assert.True(chosen.Zip(chosen.Skip(1)).All(p => p.First < p.Second), $"{d}: row {b} positions not sorted");
            Assert.True(chosen.All(i => mask[b * d.N + i]), $"{d}: row {b} routes a padding token");
            var top = real.OrderByDescending(i => scores[b * d.N + i]).Take(expected).Order();
            Assert.True(top.SequenceEqual(chosen), $"{d}: row {b} routes [{string.Join(", ", chosen)}], " +
                $"the top raw scores are at [{string.Join(", ", top)}]");
            for (var s = 0; s < slots; s++)
            {
                var w = weights[b * slots + s];
                var at = b * d.N + route.Positions[b * slots + s];
                Assert.InRange(w, 0.0, 1.0);
                if (!route.SlotValid[b * slots + s])
                    Assert.True(w == 0, $"{d}: padding slot ({b}, {s}) has weight {w}");
                else if (budgets[b] is null)
                    Assert.True(w == 1, $"{d}: row {b} routes all its tokens but slot {s} has weight {w}");
                else
                {
                    Assert.True(Math.Abs(w - lambda[at]) <= 1e-12,
                        $"{d}: slot ({b}, {s}) weight {w:R}, λ {lambda[at]:R}");
                }
            }
            // before selection λ lies in [0, 1], is 0 on padding and sums to k' over the row
            if (budgets[b] is { } kSoft)
            {
                var row = lambda.Skip(b * d.N).Take(d.N).ToArray();
                Assert.All(row, v => Assert.InRange(v, 0.0, 1.0 + 1e-15));
                Assert.True(Enumerable.Range(0, d.N).All(i => mask[b * d.N + i] || row[i] == 0), $"{d}: λ on padding");
                Assert.True(Math.Abs(row.Sum() - kSoft) <= 1e-9 * kSoft,
                    $"{d}: row {b} λ sums to {row.Sum():R}, k' = {kSoft}");
            }
        }
    });

    // The soft top-k of the raw scores with each row's budget (rows without one are left at 0).
    private static double[] Lambda(double[] scores, bool[] mask, Draw d, double?[] budgets)
    {
        var lambda = new double[scores.Length];
        for (var b = 0; b < d.Batch; b++)
        {
            if (budgets[b] is not { } k)
                continue;
            using var s = Tensor.FromArray<double>(scores.AsSpan(b * d.N, d.N), new Shape(1, d.N));
            using var m = Tensor.FromArray<bool>(mask.AsSpan(b * d.N, d.N), new Shape(1, d.N));
            using var row = SoftTopK.CoordinateDescent(s, m, k, Config.RouterEps, Config.RouterIters,
                Config.RouterEpsInit, Config.RouterEpsDecay);
            row.ToDoubleArray().CopyTo(lambda, b * d.N);
        }
        return lambda;
    }

    [Fact]
    public void PermutingTheTokensPermutesTheRouting() => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        using var store = LayerTestKit.Store(d.Seed);
        var router = new Router(store.Root("router"), Config);
        router.Train(d.Training);
        var tables = LayerTestKit.Tables(Config, store);
        using var noGrad = Tensor.NoGrad();
        int n = d.N, dm = Config.DModel;
        var mask = Mask(d);
        var h = TensorGen.Normal([d.Batch, n, dm], d.Seed + 1);
        // token i of row b of the permuted batch is token perm[b][i] of the original one
        var g = new Generator(d.Seed ^ 0x77);
        var perm = Enumerable.Range(0, d.Batch).Select(_ => Shuffle(n, g)).ToArray();
        var values = h.ToDoubleArray();
        var permuted = new double[values.Length];
        var permutedMask = new bool[mask.Length];
        for (var b = 0; b < d.Batch; b++)
        {
            for (var i = 0; i < n; i++)
            {
                Array.Copy(values, (b * n + perm[b][i]) * dm, permuted, (b * n + i) * dm, dm);
                permutedMask[b * n + i] = mask[b * n + perm[b][i]];
            }
        }
        using var h2 = Tensor.FromArray<double>(permuted, h.Shape);
        using var route = RouteOf(router, h, d, mask, tables);
        using var route2 = RouteOf(router, h2, d, permutedMask, tables);
        Assert.Equal(route.Slots, route2.Slots);
        var w = route.Weights.ToDoubleArray();
        var w2 = route2.Weights.ToDoubleArray();
        for (var b = 0; b < d.Batch; b++)
        {
            var original = Routed(route, w, b);
            var moved = Routed(route2, w2, b).ToDictionary(e => perm[b][e.Key], e => e.Value);
            Assert.True(original.Keys.Order().SequenceEqual(moved.Keys.Order()),
                $"{d}: row {b} routes [{string.Join(", ", original.Keys)}] but after the permutation " +
                $"[{string.Join(", ", moved.Keys.Order())}]");
            foreach (var (token, weight) in original)
            {
                Assert.True(Math.Abs(moved[token] - weight) <= 1e-12,
                    $"{d}: row {b} token {token}: weight {weight:R}, after the permutation {moved[token]:R}");
            }
        }
    });

    private static Dictionary<int, double> Routed(Route route, double[] weights, int b) =>
        Enumerable.Range(0, route.Slots).Where(s => route.SlotValid[b * route.Slots + s])
            .ToDictionary(s => route.Positions[b * route.Slots + s], s => weights[b * route.Slots + s]);

    private static int[] Shuffle(int n, Generator g)
    {
        var p = Enumerable.Range(0, n).ToArray();
        for (var i = n - 1; i > 0; i--)
        {
            var j = g.NextInt(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }

    /// <summary>n ≤ k (D8): every token is routed, in order, with weight exactly 1, and nothing reaches u.</summary>
    [Theory]
    [InlineData(1, 1, true)]
    [InlineData(3, 3, true)]
    [InlineData(4, 6, false)]
    [InlineData(5, 9, true)]
    public void ShortInputsRouteEveryToken(int n, int k, bool training)
    {
        using var scope = DisposeScope.Enter();
        using var store = LayerTestKit.Store(5);
        var router = new Router(store.Root("router"), Config);
        router.Train(training);
        var tables = LayerTestKit.Tables(Config, store);
        var h = TensorGen.Normal([2, n, Config.DModel], 9);
        var mask = LayerTestKit.Trailing([n, n], n);
        using var context = LayerTestKit.Context(Config, mask, 2, n, tables);
        using var route = router.Forward(h, context, _ => k);
        Assert.Equal(n, route.Slots);
        Assert.Equal(Enumerable.Range(0, n).Concat(Enumerable.Range(0, n)), route.Positions);
        Assert.All(route.SlotValid, Assert.True);
        Assert.All(route.Weights.ToDoubleArray(), w => Assert.Equal(1.0, w));
        Assert.False(route.Weights.RequiresGrad, "routing everything must not depend on the router's weight");
    }
}
