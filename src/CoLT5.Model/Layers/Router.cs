// The CoLT5 router: a learned vector scores every token, the coordinate-descent soft top-k normalises the scores,
// and the k highest-scoring real tokens are routed with their normalised scores as weights (spec §2.1, §8, D2–D8).
using System;
using System.Linq;
using CoLT5.Model.Configuration;
using CoLT5.Nn;
using CoLT5.Nn.Functional;
using CoLT5.Nn.Modules;
using CoLT5.Tensors;

namespace CoLT5.Model.Layers;

/// <summary>
/// The routing decision for a batch: <see cref="Slots"/> routed slots per row. Slot (b, s) holds token
/// <see cref="Positions"/>[b·S + s] of row b (sorted ascending), <see cref="FlatIndex"/> indexes rows of the
/// (B·n, d) hidden states, and <see cref="Weights"/> (B, S) carry the gradient to the router. Slots beyond a row's
/// real tokens are padding: weight 0, <see cref="SlotValid"/> false.
/// </summary>
public sealed class Route : IDisposable
{
    internal Route(int batch, int slots, int[] positions, bool[] valid, Tensor flatIndex, Tensor weights,
        double[] rawScores)
    {
        Batch = batch;
        Slots = slots;
        Positions = positions;
        SlotValid = valid;
        FlatIndex = flatIndex;
        Weights = weights;
        RawScores = rawScores;
    }

    /// <summary>Batch size.</summary>
    public int Batch { get; }

    /// <summary>Routed slots per row.</summary>
    public int Slots { get; }

    /// <summary>Original positions (B·S).</summary>
    public int[] Positions { get; }

    /// <summary>Whether each slot holds a real token (B·S).</summary>
    public bool[] SlotValid { get; }

    /// <summary>int32 (B·S): b·n + position.</summary>
    public Tensor FlatIndex { get; }

    /// <summary>(B, S) routing weights (0 on padding slots).</summary>
    public Tensor Weights { get; }

    /// <summary>The raw scores s = h·u of every token (B·n, padding included) that the selection ranked: the host
    /// copy the router reads anyway, kept for routing observers.</summary>
    public double[] RawScores { get; }

    /// <summary>Releases the tensors.</summary>
    public void Dispose()
    {
        FlatIndex.Dispose();
        Weights.Dispose();
    }
}

/// <summary>A router with its learned scoring vector u ∈ R^d at <c>prefix.weight</c>, u ~ N(0, d^-1/2).</summary>
public sealed class Router(ParameterBuilder p, ModelConfig config) : Module
{
    /// <summary>The scoring vector (d).</summary>
    public Tensor Weight { get; } = p.Get("weight", new Shape(config.DModel), Init.Normal(Math.Pow(config.DModel, -0.5)));

    /// <summary>
    /// Routes tokens of each row of <paramref name="h"/> (B, n, d): row b routes
    /// <paramref name="count"/>(real tokens of b) of its real tokens, so padding a batch never changes a row's routing.
    /// </summary>
    public Route Forward(Tensor h, EncoderContext context, Func<int, int> count)
    {
        ArgumentNullException.ThrowIfNull(h);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(count);
        int batch = h.Shape[0], n = h.Shape[1];
        var valid = Enumerable.Range(0, batch).Select(context.ValidCount).ToArray();
        var perRow = valid.Select(v => Math.Min(v, count(v))).ToArray();
        var k = Math.Max(1, perRow.Max());                                       // slots per row
        using var scores = h.MatMul(Weight);                                     // (B, n)
        var raw = scores.ToDoubleArray();

        // Selection: the k highest raw scores among real tokens, ties to the lower position (D5).
        var positions = new int[batch * k];
        var slotValid = new bool[batch * k];
        var flat = new int[batch * k];
        for (var b = 0; b < batch; b++)
        {
            var chosen = Enumerable.Range(0, n).Where(i => context.Mask[b * n + i])
                .OrderByDescending(i => raw[b * n + i]).ThenBy(i => i).Take(perRow[b]).Order().ToArray();
            for (var s = 0; s < k; s++)
            {
                var real = s < chosen.Length;
                positions[b * k + s] = real ? chosen[s] : 0;
                slotValid[b * k + s] = real;
                flat[b * k + s] = b * n + positions[b * k + s];
            }
        }
        var flatIndex = Tensor.FromArray<int>(flat, new Shape(batch * k), h.Device);
        var weights = Weights(scores, context, valid, perRow, k, positions, slotValid);
        return new Route(batch, k, positions, slotValid, flatIndex, weights, raw);
    }

    // λ of the soft top-k at the chosen positions; rows with no more real tokens than their k route all of them with
    // weight 1 (D8). Padding slots get weight 0.
    private Tensor Weights(Tensor scores, EncoderContext context, int[] valid, int[] perRow, int k, int[] positions,
        bool[] slotValid)
    {
        int batch = scores.Shape[0], n = scores.Shape[1];
        var ones = slotValid.Select(s => s ? 1.0 : 0.0).ToArray();
        using var slotMask = Tensor.FromArray<double>(ones, new Shape(batch, k), scores.Device);
        using var slotMaskTyped = slotMask.To(scores.DType);
        var fullRows = Enumerable.Range(0, batch).Select(b => valid[b] <= perRow[b]).ToArray();
        if (fullRows.All(f => f))
            return slotMaskTyped.Contiguous();

        // Full rows keep weight 1 (their λ is discarded below) but still need a positive budget: a row of padding
        // only (valid 0) next to a routed row would otherwise ask the soft top-k for k = 0.
        var budget = new double[batch];
        for (var b = 0; b < batch; b++)
        {
            budget[b] = fullRows[b] ? Math.Max(valid[b], 1)
                : Math.Min(Training ? config.RouterKRatio * perRow[b] : perRow[b], valid[b]);
        }
        using var mask = Tensor.FromArray<bool>(context.Mask, new Shape(batch, n), scores.Device);
        using var lambda = Normalise(scores, mask, budget);                      // (B, n)
        using var index = Tensor.FromArray<int>(positions, new Shape(batch, k), scores.Device);
        using var picked = lambda.Gather(1, index);                              // (B, k)
        using var forward = config.RouterStraightThrough ? StraightThrough(picked) : picked.Contiguous();
        // Rows with few real tokens: weight exactly 1 on every real token (no gradient to u from them).
        if (!fullRows.Any(f => f))
            return forward * slotMaskTyped;
        var rowFlags = Enumerable.Range(0, batch * k).Select(i => fullRows[i / k]).ToArray();
        using var isFull = Tensor.FromArray<bool>(rowFlags, new Shape(batch, k), scores.Device);
        using var blended = Tensor.Where(isFull, slotMaskTyped, forward);
        return blended * slotMaskTyped;
    }

    // The soft top-k of the whole batch in one call: one budget for all rows, or one per row (fused kernel: each row
    // is normalised on its own either way, so the values are those of separate per-row calls).
    private Tensor Normalise(Tensor scores, Tensor mask, double[] budget)
    {
        if (budget.All(k => k == budget[0]))
            return SoftTopK.CoordinateDescent(scores, mask, budget[0], config.RouterEps, config.RouterIters,
                config.RouterEpsInit, config.RouterEpsDecay);
        using var perRow = Tensor.FromArray<double>(budget, new Shape(budget.Length), scores.Device);
        return SoftTopK.CoordinateDescent(scores, mask, perRow, config.RouterEps, config.RouterIters,
            config.RouterEpsInit, config.RouterEpsDecay);
    }

    // Forward value 1, gradient of λ (spec §8.5): λ + (1 − λ) with the second term detached.
    private static Tensor StraightThrough(Tensor lambda)
    {
        using var constant = lambda.Detach();
        using var gap = 1.0 - constant;
        return lambda + gap;
    }
}
