// Watching the CoLT5 routers: an observer attached to an encoder forward receives, for every router call, the chosen
// positions, the weights the heavy branch was multiplied by, and the raw scores of every token. Off by default; with
// no observer attached the encoder does no extra work and allocates nothing for it.
using System;
using System.Collections.Generic;

namespace CoLT5.Model.Layers;

/// <summary>The three routers of a CoLT5 encoder layer.</summary>
public enum RouterKind
{
    /// <summary>The feed-forward router (<c>layer.1.router</c>): tokens for the heavy FF.</summary>
    FeedForward,

    /// <summary>The attention query router (<c>layer.0.q_router</c>): tokens that attend in the heavy branch.</summary>
    Query,

    /// <summary>The attention key/value router (<c>layer.0.kv_router</c>): tokens attended to in the heavy
    /// branch.</summary>
    KeyValue,
}

/// <summary>Receives every routing decision of an encoder forward (see <see cref="EncoderContext.RoutingObserver"/>).
/// Called on the forward's thread, in layer order: per layer the query and kv routers, then the FF router.</summary>
public interface IRoutingObserver
{
    /// <summary>One router call of one layer, for the whole batch.</summary>
    void OnRoute(RouterObservation observation);
}

/// <summary>
/// One router call: for a batch of <see cref="Batch"/> rows of <see cref="Length"/> tokens, <see cref="Slots"/>
/// routed slots per row. Slot (b, s) is token <see cref="Positions"/>[b·S + s] of row b (ascending within a row),
/// real when <see cref="SlotValid"/>[b·S + s], with routing weight <see cref="Weights"/>[b·S + s]: the value the
/// heavy branch's output (FF, queries) or input (keys/values) was multiplied by. <see cref="Scores"/> (B·n) are the
/// raw router scores s = h·u of every token, padding included. The arrays are copies owned by the observation.
/// </summary>
/// <param name="Layer">Encoder layer index (0-based).</param>
/// <param name="Kind">Which router of the layer.</param>
/// <param name="Batch">Rows B.</param>
/// <param name="Length">Tokens per row n (padded length).</param>
/// <param name="Slots">Routed slots per row S.</param>
/// <param name="Positions">Routed positions (B·S).</param>
/// <param name="SlotValid">Whether each slot holds a real token (B·S); padding slots have weight 0.</param>
/// <param name="Weights">Routing weights (B·S).</param>
/// <param name="Scores">Raw router scores (B·n).</param>
public sealed record RouterObservation(int Layer, RouterKind Kind, int Batch, int Length, int Slots,
    int[] Positions, bool[] SlotValid, double[] Weights, double[] Scores)
{
    /// <summary>The routed (position, weight) pairs of row <paramref name="row"/>, in ascending position order;
    /// padding slots left out.</summary>
    public IReadOnlyList<(int Position, double Weight)> Routed(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Batch);
        var routed = new List<(int, double)>(Slots);
        for (var s = row * Slots; s < (row + 1) * Slots; s++)
        {
            if (SlotValid[s])
                routed.Add((Positions[s], Weights[s]));
        }
        return routed;
    }

    /// <summary>Row <paramref name="row"/>'s weight per token (n): the routing weight of routed tokens, 0 for the
    /// others.</summary>
    public double[] WeightPerToken(int row)
    {
        var perToken = new double[Length];
        foreach (var (position, weight) in Routed(row))
            perToken[position] = weight;
        return perToken;
    }

    /// <summary>Row <paramref name="row"/>'s routing indicator per token (n).</summary>
    public bool[] RoutedPerToken(int row)
    {
        var perToken = new bool[Length];
        foreach (var (position, _) in Routed(row))
            perToken[position] = true;
        return perToken;
    }

    /// <summary>Row <paramref name="row"/>'s raw scores (n).</summary>
    public ReadOnlySpan<double> RowScores(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Batch);
        return Scores.AsSpan(row * Length, Length);
    }

    /// <summary>The observation of <paramref name="route"/>, made by router <paramref name="kind"/> of layer
    /// <paramref name="layer"/> over <paramref name="length"/> tokens per row; downloads the weights.</summary>
    public static RouterObservation Of(int layer, RouterKind kind, int length, Route route)
    {
        ArgumentNullException.ThrowIfNull(route);
        return new RouterObservation(layer, kind, route.Batch, length, route.Slots, (int[])route.Positions.Clone(),
            (bool[])route.SlotValid.Clone(), route.Weights.ToDoubleArray(), (double[])route.RawScores.Clone());
    }
}
