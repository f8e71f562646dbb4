// A routing observer that keeps everything: the decisions of the three routers of every layer of one encoder
// forward, looked up by (layer, router). The input to the routing statistics and to `colt5 routes`.
using System;
using System.Collections.Generic;
using System.Linq;
using CoLT5.Model.Layers;

namespace CoLT5.Model.Analysis;

/// <summary>Collects the <see cref="RouterObservation"/>s of one encoder forward.</summary>
public sealed class RoutingTrace : IRoutingObserver
{
    private readonly Dictionary<(int Layer, RouterKind Kind), RouterObservation> byRouter = [];
    private readonly List<RouterObservation> all = [];

    /// <summary>Every observation in the order the encoder made them.</summary>
    public IReadOnlyList<RouterObservation> Observations => all;

    /// <summary>Number of layers observed (one more than the highest layer index; 0 when empty).</summary>
    public int Layers => all.Count == 0 ? 0 : all.Max(o => o.Layer) + 1;

    /// <summary>Records one router call.</summary>
    /// <exception cref="InvalidOperationException">The same router of the same layer reported twice (a trace
    /// belongs to one forward).</exception>
    public void OnRoute(RouterObservation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        if (!byRouter.TryAdd((observation.Layer, observation.Kind), observation))
            throw new InvalidOperationException($"layer {observation.Layer}'s {observation.Kind} router reported " +
                "twice; use one RoutingTrace per encoder forward");
        all.Add(observation);
    }

    /// <summary>The decision of router <paramref name="kind"/> in layer <paramref name="layer"/>.</summary>
    /// <exception cref="KeyNotFoundException">That router was not observed.</exception>
    public RouterObservation this[int layer, RouterKind kind] => byRouter.TryGetValue((layer, kind), out var o) ? o
        : throw new KeyNotFoundException($"no observation of layer {layer}'s {kind} router");

    /// <summary>True when every layer 0..<see cref="Layers"/>−1 has all three routers (a complete CoLT5
    /// forward).</summary>
    public bool IsComplete => Layers > 0 && Enumerable.Range(0, Layers).All(layer =>
        Enum.GetValues<RouterKind>().All(kind => byRouter.ContainsKey((layer, kind))));
}
