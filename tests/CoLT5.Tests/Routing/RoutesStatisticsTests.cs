// Routing statistics on hand-made inputs with known answers: Jaccard / phi / chance overlap of two selections,
// Pearson correlation, and the per-kind routing rates of a synthetic two-layer trace.
using System;
using System.Linq;
using CoLT5.Model.Analysis;
using CoLT5.Model.Layers;
using CoLT5.Tests.Testing;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Routing;

public sealed class RoutesStatisticsTests
{
    private static bool[] Set(int n, params int[] members)
    {
        var indicator = new bool[n];
        foreach (var m in members)
            indicator[m] = true;
        return indicator;
    }

    [Fact]
    public void AgreementOfKnownSelections()
    {
        // n = 10, A = {0,1,2,3}, B = {2,3,4}: both 2, only A 2, only B 1, neither 5.
        var a = RoutingAgreement.Of(Set(10, 0, 1, 2, 3), Set(10, 2, 3, 4));
        Assert.Equal((2, 2, 1, 5), (a.Both, a.OnlyFirst, a.OnlySecond, a.Neither));
        Assert.Equal(2.0 / 5, a.Jaccard, 15);
        // φ = (2·5 − 2·1) / √(4·6·3·7) = 8 / √504
        Assert.Equal(8 / Math.Sqrt(504), a.Phi, 15);
        // chance: E|A∩B| = 4·3/10 = 1.2, Jaccard ≈ 1.2 / (7 − 1.2)
        Assert.Equal(1.2 / 5.8, a.ChanceJaccard, 15);
    }

    [Fact]
    public void IdenticalDisjointAndDegenerateSelections()
    {
        var same = RoutingAgreement.Of(Set(6, 1, 4), Set(6, 1, 4));
        Assert.Equal(1.0, same.Jaccard);
        Assert.Equal(1.0, same.Phi, 15);
        // complementary halves: no overlap, perfectly anti-correlated
        var opposite = RoutingAgreement.Of(Set(4, 0, 1), Set(4, 2, 3));
        Assert.Equal(0.0, opposite.Jaccard);
        Assert.Equal(-1.0, opposite.Phi, 15);
        // a router that routes every token (n ≤ k): φ undefined; two empty selections: Jaccard undefined
        Assert.True(double.IsNaN(RoutingAgreement.Of(Set(3, 0, 1, 2), Set(3, 1)).Phi));
        Assert.True(double.IsNaN(RoutingAgreement.Of(Set(3), Set(3)).Jaccard));
        Assert.Throws<ArgumentException>(() => RoutingAgreement.Of(Set(3), Set(4)));
    }

    /// <summary>φ equals the Pearson correlation of the 0/1 indicators, for random selections.</summary>
    [Fact]
    public void PhiIsThePearsonCorrelationOfTheIndicators()
    {
        var gen = from n in Gen.Choose(2, 40)
                  from a in Gen.ArrayOf(Gen.Elements(true, false), n)
                  from b in Gen.ArrayOf(Gen.Elements(true, false), n)
                  select (a, b);
        Props.Check(gen, c =>
        {
            var phi = RoutingAgreement.Of(c.a, c.b).Phi;
            var pearson = RoutingStatistics.Pearson(c.a.Select(x => x ? 1.0 : 0).ToArray(),
                c.b.Select(x => x ? 1.0 : 0).ToArray());
            Assert.Equal(double.IsNaN(pearson), double.IsNaN(phi));
            if (!double.IsNaN(phi))
                Assert.Equal(pearson, phi, 12);
        });
    }

    [Fact]
    public void PearsonOfKnownSeries()
    {
        Assert.Equal(1.0, RoutingStatistics.Pearson([1, 2, 3, 4], [10, 20, 30, 40]), 15);
        Assert.Equal(-1.0, RoutingStatistics.Pearson([1, 2, 3], [3, 2, 1]), 15);
        // x = (1,2,3), y = (1,3,2): cov = 1, var x = var y = 2 → 0.5
        Assert.Equal(0.5, RoutingStatistics.Pearson([1, 2, 3], [1, 3, 2]), 15);
        Assert.True(double.IsNaN(RoutingStatistics.Pearson([1, 1, 1], [1, 2, 3])));
        Assert.True(double.IsNaN(RoutingStatistics.Pearson([1], [2])));
    }

    /// <summary>Six tokens of known kinds through two layers with hand-picked routes.</summary>
    [Fact]
    public void RatesByKindAndLayer()
    {
        TokenKind[] kinds = [TokenKind.WordStart, TokenKind.Other, TokenKind.Whitespace, TokenKind.WordStart,
            TokenKind.Punctuation, TokenKind.Special];
        var trace = new RoutingTrace();
        void Add(int layer, RouterKind kind, int[] positions) => trace.OnRoute(new RouterObservation(layer, kind, 1,
            6, positions.Length, positions, positions.Select(_ => true).ToArray(),
            positions.Select(_ => 0.5).ToArray(), [.. Enumerable.Range(0, 6).Select(i => (double)i)]));
        Add(0, RouterKind.Query, [0, 3]);
        Add(0, RouterKind.KeyValue, [0, 3, 4, 5]);
        Add(0, RouterKind.FeedForward, [1, 2]);
        Add(1, RouterKind.Query, [4, 5]);
        Add(1, RouterKind.KeyValue, [0, 1, 4, 5]);
        Add(1, RouterKind.FeedForward, [3, 5]);
        var summary = RoutingStatistics.Summarize(trace, kinds);
        Assert.Equal(6, summary.Tokens);
        Assert.Equal(2, summary.TokensByKind[(int)TokenKind.WordStart]);
        Assert.Equal(0, summary.TokensByKind[(int)TokenKind.Digits]);
        Assert.Equal(1.0, summary.Rate(RouterKind.Query, TokenKind.WordStart, 0));
        Assert.Equal(0.5, summary.Rate(RouterKind.Query, TokenKind.WordStart));        // 2 of 2, then 0 of 2
        Assert.Equal(0.25, summary.Rate(RouterKind.FeedForward, TokenKind.WordStart));  // 0, then 1 of 2
        Assert.Equal(1.0, summary.Rate(RouterKind.KeyValue, TokenKind.Special));
        Assert.True(double.IsNaN(summary.Rate(RouterKind.Query, TokenKind.Digits)));
        Assert.Equal(4.0 / 6, summary.Rate(RouterKind.KeyValue, 1));
        // layer 0: q ⊂ kv → Jaccard 2/4; layer 1: q = {4,5}, kv = {0,1,4,5} → 2/4 as well
        Assert.Equal(0.5, summary.Layers[0].QueryKeyValue.Jaccard);
        Assert.Equal(0, summary.Layers[0].FeedForwardQuery.Both);
        Assert.Equal(1, summary.Layers[1].FeedForwardKeyValue.Both);
        Assert.Equal(1.0, summary.Layers[0].QueryKeyValueScores, 15);           // the same scores in both routers
    }

    [Fact]
    public void AnIncompleteTraceIsRefused()
    {
        var trace = new RoutingTrace();
        trace.OnRoute(new RouterObservation(0, RouterKind.Query, 1, 2, 1, [0], [true], [1], [0, 0]));
        var e = Assert.Throws<ArgumentException>(() => RoutingStatistics.Summarize(trace, [TokenKind.Other]));
        Assert.Contains("all three routers", e.Message, StringComparison.Ordinal);
    }
}
