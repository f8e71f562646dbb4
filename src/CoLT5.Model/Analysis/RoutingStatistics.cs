// Routing statistics after the paper's routing analysis (App. F): how often each token kind is sent to the heavy
// branch by each router, and how much the query and key/value routers (and the FF router) agree, per layer.
using System;
using System.Collections.Generic;
using System.Linq;
using CoLT5.Model.Layers;

namespace CoLT5.Model.Analysis;

/// <summary>
/// How two routing decisions over the same n tokens agree. <see cref="Jaccard"/> = |A∩B| / |A∪B|;
/// <see cref="Phi"/> is the Pearson correlation of the two 0/1 routing indicators over the tokens (the phi
/// coefficient); <see cref="ChanceJaccard"/> is the Jaccard overlap two independent random selections of the same
/// sizes would have on average, ≈ (ab/n) / (a + b − ab/n). A value is NaN where it is undefined (Jaccard of two
/// empty sets; phi when a router chose all or none of the tokens).
/// </summary>
/// <param name="Tokens">n.</param>
/// <param name="Both">Tokens both routers chose.</param>
/// <param name="OnlyFirst">Tokens only the first chose.</param>
/// <param name="OnlySecond">Tokens only the second chose.</param>
public sealed record RoutingAgreement(int Tokens, int Both, int OnlyFirst, int OnlySecond)
{
    /// <summary>Tokens neither chose.</summary>
    public int Neither => Tokens - Both - OnlyFirst - OnlySecond;

    /// <summary>|A∩B| / |A∪B|.</summary>
    public double Jaccard => Both + OnlyFirst + OnlySecond == 0 ? double.NaN
        : (double)Both / (Both + OnlyFirst + OnlySecond);

    /// <summary>The phi coefficient (Pearson correlation of the indicators).</summary>
    public double Phi
    {
        get
        {
            double a = Both + OnlyFirst, b = Both + OnlySecond, n = Tokens;
            var denominator = Math.Sqrt(a * (n - a) * b * (n - b));
            return denominator == 0 ? double.NaN : ((double)Both * Neither - (double)OnlyFirst * OnlySecond) / denominator;
        }
    }

    /// <summary>Expected Jaccard of independent random selections of the same sizes.</summary>
    public double ChanceJaccard
    {
        get
        {
            double a = Both + OnlyFirst, b = Both + OnlySecond;
            if (Tokens == 0 || a + b == 0)
                return double.NaN;
            var overlap = a * b / Tokens;
            return overlap / (a + b - overlap);
        }
    }

    /// <summary>Compares two routing indicators of equal length.</summary>
    public static RoutingAgreement Of(IReadOnlyList<bool> first, IReadOnlyList<bool> second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (first.Count != second.Count)
            throw new ArgumentException($"indicators of {first.Count} and {second.Count} tokens", nameof(second));
        int both = 0, onlyFirst = 0, onlySecond = 0;
        for (var i = 0; i < first.Count; i++)
        {
            both += first[i] && second[i] ? 1 : 0;
            onlyFirst += first[i] && !second[i] ? 1 : 0;
            onlySecond += !first[i] && second[i] ? 1 : 0;
        }
        return new RoutingAgreement(first.Count, both, onlyFirst, onlySecond);
    }
}

/// <summary>One layer's routing: routed tokens per kind for each router, and the agreements.</summary>
/// <param name="Layer">Layer index.</param>
/// <param name="RoutedByKind">Per router, routed tokens per <see cref="TokenKind"/> (indexed by the enum's value).</param>
/// <param name="QueryKeyValue">Query vs key/value router.</param>
/// <param name="FeedForwardQuery">FF vs query router.</param>
/// <param name="FeedForwardKeyValue">FF vs key/value router.</param>
/// <param name="QueryKeyValueScores">Pearson correlation of the query and kv routers' raw scores over the tokens
/// (NaN when one is constant).</param>
public sealed record LayerRouting(int Layer, IReadOnlyDictionary<RouterKind, int[]> RoutedByKind,
    RoutingAgreement QueryKeyValue, RoutingAgreement FeedForwardQuery, RoutingAgreement FeedForwardKeyValue,
    double QueryKeyValueScores)
{
    /// <summary>Tokens router <paramref name="router"/> sent to the heavy branch in this layer.</summary>
    public int Routed(RouterKind router) => RoutedByKind[router].Sum();
}

/// <summary>The routing of one input through every layer.</summary>
/// <param name="Tokens">Tokens analysed (n).</param>
/// <param name="TokensByKind">Tokens per kind (indexed by the enum's value).</param>
/// <param name="Layers">Per layer.</param>
public sealed record RoutingSummary(int Tokens, int[] TokensByKind, IReadOnlyList<LayerRouting> Layers)
{
    /// <summary>The fraction of tokens of <paramref name="kind"/> that <paramref name="router"/> routed, in layer
    /// <paramref name="layer"/> or (null) over all layers; NaN when the input has no such token.</summary>
    public double Rate(RouterKind router, TokenKind kind, int? layer = null)
    {
        var tokens = TokensByKind[(int)kind];
        if (tokens == 0)
            return double.NaN;
        if (layer is { } l)
            return (double)Layers[l].RoutedByKind[router][(int)kind] / tokens;
        return (double)Layers.Sum(x => x.RoutedByKind[router][(int)kind]) / ((double)tokens * Layers.Count);
    }

    /// <summary>The fraction of all tokens <paramref name="router"/> routed, per layer or over all layers.</summary>
    public double Rate(RouterKind router, int? layer = null) => Tokens == 0 ? double.NaN
        : layer is { } l ? (double)Layers[l].Routed(router) / Tokens
        : (double)Layers.Sum(x => x.Routed(router)) / ((double)Tokens * Layers.Count);
}

/// <summary>Computes <see cref="RoutingSummary"/> from a trace.</summary>
public static class RoutingStatistics
{
    /// <summary>Number of token kinds.</summary>
    public static int KindCount => Enum.GetValues<TokenKind>().Length;

    /// <summary>
    /// Summarises row <paramref name="row"/> of <paramref name="trace"/> over its first kinds.Count tokens (the
    /// row's real tokens), where <paramref name="kinds"/> gives each token's kind.
    /// </summary>
    /// <exception cref="ArgumentException">The trace is not a complete CoLT5 forward, or has fewer tokens per row
    /// than <paramref name="kinds"/>.</exception>
    public static RoutingSummary Summarize(RoutingTrace trace, IReadOnlyList<TokenKind> kinds, int row = 0)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(kinds);
        if (!trace.IsComplete)
            throw new ArgumentException("the trace does not hold all three routers of every layer", nameof(trace));
        var n = kinds.Count;
        var tokensByKind = new int[KindCount];
        foreach (var kind in kinds)
            tokensByKind[(int)kind]++;
        var layers = new List<LayerRouting>();
        for (var layer = 0; layer < trace.Layers; layer++)
        {
            var routed = new Dictionary<RouterKind, bool[]>();
            var byKind = new Dictionary<RouterKind, int[]>();
            foreach (var router in Enum.GetValues<RouterKind>())
            {
                var observation = trace[layer, router];
                if (observation.Length < n)
                    throw new ArgumentException($"layer {layer}'s {router} router saw {observation.Length} tokens, " +
                        $"fewer than the {n} described", nameof(kinds));
                var indicator = observation.RoutedPerToken(row)[..n];
                routed[router] = indicator;
                var counts = new int[KindCount];
                for (var i = 0; i < n; i++)
                    counts[(int)kinds[i]] += indicator[i] ? 1 : 0;
                byKind[router] = counts;
            }
            var scores = Pearson(trace[layer, RouterKind.Query].RowScores(row)[..n],
                trace[layer, RouterKind.KeyValue].RowScores(row)[..n]);
            layers.Add(new LayerRouting(layer, byKind,
                RoutingAgreement.Of(routed[RouterKind.Query], routed[RouterKind.KeyValue]),
                RoutingAgreement.Of(routed[RouterKind.FeedForward], routed[RouterKind.Query]),
                RoutingAgreement.Of(routed[RouterKind.FeedForward], routed[RouterKind.KeyValue]), scores));
        }
        return new RoutingSummary(n, tokensByKind, layers);
    }

    /// <summary>The Pearson correlation of two equally long series; NaN when either is constant or they are
    /// shorter than 2.</summary>
    public static double Pearson(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (x.Length != y.Length)
            throw new ArgumentException($"series of {x.Length} and {y.Length} values", nameof(y));
        if (x.Length < 2)
            return double.NaN;
        double meanX = 0, meanY = 0;
        for (var i = 0; i < x.Length; i++)
        {
            meanX += x[i];
            meanY += y[i];
        }
        meanX /= x.Length;
        meanY /= y.Length;
        double sxy = 0, sxx = 0, syy = 0;
        for (var i = 0; i < x.Length; i++)
        {
            double dx = x[i] - meanX, dy = y[i] - meanY;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        return sxx == 0 || syy == 0 ? double.NaN : sxy / Math.Sqrt(sxx * syy);
    }
}
