// Helpers for layer-level model tests: float64 parameter stores, encoder contexts with their bias tables, padding
// masks, and routing margins (how far a draw stays from a change of the top-k selection or from a router kink).
using System;
using System.Linq;
using CoLT5.Model.Configuration;
using CoLT5.Model.Layers;
using CoLT5.Nn;
using CoLT5.Nn.Modules;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;
using CoLT5.Tests.Routing;
using CoLT5.Tests.Testing;

namespace CoLT5.Tests.Model;

public static class LayerTestKit
{
    /// <summary>An empty float64 store drawing new parameters from <paramref name="seed"/>.</summary>
    public static ParameterStore Store(ulong seed) => new(DType.Float64, Device.Cpu, new Generator(seed));

    /// <summary>Dropout that never drops (rate 0).</summary>
    public static Dropout NoDropout() => new(0, new Generator(0));

    /// <summary>The relative-bias tables an encoder of the config's type needs, under <c>tables.*</c>.</summary>
    public static EncoderBiasTables Tables(ModelConfig config, ParameterStore store)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(store);
        var root = store.Root("tables");
        RelativeBias Table(string name, int heads) => new(root.Sub(name), config.RelativeAttentionNumBuckets, heads,
            config.RelativeAttentionMaxDistance, 0.5);
        return config.Encoder switch
        {
            EncoderType.T5 or EncoderType.LongT5Local or EncoderType.SparseMixer =>
                new(Table("main", config.NumHeads), null, null, null),
            EncoderType.FNet => new(null, null, null, null),
            EncoderType.LongT5TGlobal =>
                new(Table("main", config.NumHeads), Table("global", config.NumHeads), null, null),
            _ => new(null, null, Table("light", config.LightHeads), Table("heavy", config.HeavyHeads)),
        };
    }

    /// <summary>The float64 encoder context of a batch.</summary>
    public static EncoderContext Context(ModelConfig config, bool[] mask, int batch, int n, EncoderBiasTables tables) =>
        EncoderContext.Build(config, mask, batch, n, tables, DType.Float64, Device.Cpu);

    /// <summary>A (B·n) mask whose row b has its first <paramref name="valid"/>[b] tokens real.</summary>
    public static bool[] Trailing(int[] valid, int n)
    {
        ArgumentNullException.ThrowIfNull(valid);
        var mask = new bool[valid.Length * n];
        for (var b = 0; b < valid.Length; b++)
        {
            for (var i = 0; i < valid[b]; i++)
                mask[b * n + i] = true;
        }
        return mask;
    }

    /// <summary>Raw router scores h·u (B·n) of hidden states (B, n, d), computed on the host in float64.</summary>
    public static double[] Scores(Tensor h, Tensor u)
    {
        ArgumentNullException.ThrowIfNull(h);
        ArgumentNullException.ThrowIfNull(u);
        int rows = h.Shape[0] * h.Shape[1], d = h.Shape[2];
        var x = h.ToDoubleArray();
        var w = u.ToDoubleArray();
        var s = new double[rows];
        for (var r = 0; r < rows; r++)
        {
            for (var j = 0; j < d; j++)
                s[r] += x[r * d + j] * w[j];
        }
        return s;
    }

    /// <summary>
    /// The smallest gap, over rows that route fewer tokens than they hold, between the last routed and the first
    /// unrouted raw score: a perturbation smaller than half of it cannot change the selection.
    /// </summary>
    public static double SelectionGap(double[] scores, bool[] mask, int batch, Func<int, int> count)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(mask);
        ArgumentNullException.ThrowIfNull(count);
        var n = scores.Length / batch;
        var gap = double.PositiveInfinity;
        for (var b = 0; b < batch; b++)
        {
            var real = Enumerable.Range(0, n).Where(i => mask[b * n + i]).Select(i => scores[b * n + i])
                .OrderDescending().ToArray();
            var k = Math.Min(real.Length, count(real.Length));
            if (k < real.Length)
                gap = Math.Min(gap, real[k - 1] - real[k]);
        }
        return gap;
    }

    /// <summary>
    /// The soft top-k budget of each row as the router computes it: 9/8·k (the config's ratio) while training, k in
    /// evaluation, capped at the real tokens; null for rows routing all their tokens (weight 1, no soft top-k).
    /// </summary>
    public static double?[] Budgets(ModelConfig config, bool[] mask, int batch, Func<int, int> count, bool training)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(mask);
        ArgumentNullException.ThrowIfNull(count);
        var n = mask.Length / batch;
        var budgets = new double?[batch];
        for (var b = 0; b < batch; b++)
        {
            var valid = Enumerable.Range(0, n).Count(i => mask[b * n + i]);
            var k = Math.Min(valid, count(valid));
            budgets[b] = valid <= k ? null : Math.Min(training ? config.RouterKRatio * k : k, valid);
        }
        return budgets;
    }

    /// <summary>
    /// The smallest |s_i + a_t| over the real tokens and iterations of the rows that run the soft top-k: how far the
    /// router's unrolled iteration stays from its relu kinks (∞ when no row runs it).
    /// </summary>
    public static double KinkMargin(ModelConfig config, double[] scores, bool[] mask, int batch, Func<int, int> count,
        bool training)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(scores);
        var n = scores.Length / batch;
        var budgets = Budgets(config, mask, batch, count, training);
        var rows = Enumerable.Range(0, batch).Where(b => budgets[b] is not null).ToArray();
        if (rows.Length == 0)
            return double.PositiveInfinity;
        var set = new RouterSetting("model", config.RouterEps, config.RouterIters, config.RouterEpsInit,
            config.RouterEpsDecay);
        var c = new RouterCase(new RouterRecipe(rows.Length, n, 0, 1, 1, 0), [rows.Length], n,
            rows.SelectMany(b => scores.Skip(b * n).Take(n)).ToArray(),
            rows.SelectMany(b => mask.Skip(b * n).Take(n)).ToArray(),
            rows.Select(b => budgets[b]!.Value).ToArray());
        using var scope = DisposeScope.Enter();
        return SoftTopKCases.KinkMargin(c, set);
    }

    /// <summary>
    /// Gradient check (float64 central differences, <see cref="GradCheck"/>) of <paramref name="f"/>, which reads its
    /// tensors itself, w.r.t. <paramref name="inputs"/> and each parameter of <paramref name="store"/> with
    /// probability <paramref name="share"/> (drawn from <paramref name="seed"/>). Failures name the tensor.
    /// </summary>
    public static void Gradients(string what, Func<Tensor> f, Tensor[] inputs, ParameterStore store, ulong seed,
        double share = 0.5)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(store);
        var g = new Generator(seed ^ 0xC0FFEE);
        var parameters = store.Parameters.Where(_ => g.NextDouble() < share).ToArray();
        Tensor[] all = [.. inputs, .. parameters.Select(p => p.Tensor)];
        var names = inputs.Select((_, i) => $"{i}: input {i}")
            .Concat(parameters.Select((p, i) => $"{inputs.Length + i}: {p.Name}"));
        if (!GradCheck.Holds(_ => f(), all, out var why))
        {
            throw new InvalidOperationException(
                $"{what}: gradient mismatch: {why} (inputs {string.Join(", ", names)})");
        }
    }

    /// <summary>The first seed of <paramref name="seed"/>, seed + 7919, ... (20 tries) that <paramref name="fit"/>
    /// accepts, or null.</summary>
    public static ulong? FirstFit(ulong seed, Func<ulong, bool> fit)
    {
        ArgumentNullException.ThrowIfNull(fit);
        for (ulong attempt = 0; attempt < 20; attempt++)
        {
            if (fit(seed + 7919 * attempt))
                return seed + 7919 * attempt;
        }
        return null;
    }

    /// <summary>The additive encoder padding mask of the decoder's cross-attention: (B, 1, 1, n), 0 or the dtype's
    /// most negative value.</summary>
    public static Tensor CrossMask(bool[] mask, int batch, int n)
    {
        ArgumentNullException.ThrowIfNull(mask);
        var values = mask.Select(m => m ? 0 : EncoderContext.MinValue(DType.Float64)).ToArray();
        return Tensor.FromArray<double>(values, new Shape(batch, 1, 1, n));
    }

    /// <summary>The decoder's causal self-attention bias for t queries after <paramref name="past"/> cached ones:
    /// (1, H, t, past + t), relative bias plus the dtype's most negative value on future keys.</summary>
    public static Tensor CausalBias(RelativeBias table, int t, int past)
    {
        ArgumentNullException.ThrowIfNull(table);
        var total = past + t;
        using var bias = table.Full(t, total, bidirectional: false, queryOffset: past);
        var future = new bool[t * total];
        for (var i = 0; i < t; i++)
        {
            for (var j = 0; j < total; j++)
                future[i * total + j] = j > past + i;
        }
        using var mask = Tensor.FromArray<bool>(future, new Shape(1, 1, t, total));
        return bias.MaskedFill(mask, EncoderContext.MinValue(DType.Float64));
    }

    /// <summary>
    /// y (B, n, d) with the padding positions zeroed, for losses over real tokens only. The model never reads an
    /// encoder output at padding (it is masked as a key everywhere), and a padding query whose whole local window is
    /// padding attends through logits near −1e10 that round at ulp(1e10) ≈ 2e-6, so finite differences of its output
    /// measure rounding rather than the gradient.
    /// </summary>
    public static Tensor RealRows(Tensor y, bool[] mask)
    {
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(mask);
        using var keep = Tensor.FromArray<double>(mask.Select(m => m ? 1.0 : 0.0).ToArray(),
            new Shape(y.Shape[0], y.Shape[1], 1));
        return y * keep;
    }
}
