// Sparse Mixer's mixture-of-experts feed-forward with experts-choose routing (spec 2.3): a float router with bias
// scores every real token for E experts, each expert takes the C tokens of a row it gives the highest probability,
// runs its own feed-forward on them as one batched product over all experts, and the outputs come back weighted by
// those probabilities (not renormalised). Tokens no expert chose get 0; the router z-loss is recorded for training.
using System;
using System.Linq;
using CoLT5.Model.Configuration;
using CoLT5.Nn;
using CoLT5.Nn.Modules;
using CoLT5.Tensors;

namespace CoLT5.Model.Layers;

/// <summary>
/// One routing decision of <see cref="ExpertsChooseFeedForward"/> for a batch. Slot (e, b, c) of expert e holds
/// token <see cref="Positions"/>[(e·B + b)·S + c] of row b; slots c ≥ <see cref="Capacity"/>[b] are padding (weight 0,
/// position 0) and exist only because rows of a batch may have different capacities.
/// </summary>
public sealed class ExpertRoute : IDisposable
{
    internal ExpertRoute(int experts, int batch, int slots, int[] capacity, int[] positions, Tensor flatIndex,
        Tensor weights, Tensor probabilities, Tensor logits)
    {
        Experts = experts;
        Batch = batch;
        Slots = slots;
        Capacity = capacity;
        Positions = positions;
        FlatIndex = flatIndex;
        Weights = weights;
        Probabilities = probabilities;
        Logits = logits;
    }

    /// <summary>Experts E.</summary>
    public int Experts { get; }

    /// <summary>Batch rows B.</summary>
    public int Batch { get; }

    /// <summary>Slots per expert and row S = max_b C_b.</summary>
    public int Slots { get; }

    /// <summary>Capacity C_b = max(round(cf·T_b/E), 4) capped at T_b, per row (T_b: the row's real tokens).</summary>
    public int[] Capacity { get; }

    /// <summary>The chosen position of every slot (E·B·S), in (expert, row, slot) order.</summary>
    public int[] Positions { get; }

    /// <summary>int32 (E·B·S): b·n + position, rows of the flattened (B·n, d) input.</summary>
    public Tensor FlatIndex { get; }

    /// <summary>(E, B, S): the router probability p[b, position, e] of each slot, 0 on padding slots (carries the
    /// gradient to the router).</summary>
    public Tensor Weights { get; }

    /// <summary>(B, n, E): router probabilities, softmax over experts; 0 at padded tokens.</summary>
    public Tensor Probabilities { get; }

    /// <summary>(B, n, E): router logits x·Wᵀ + b.</summary>
    public Tensor Logits { get; }

    /// <summary>Releases the tensors.</summary>
    public void Dispose()
    {
        FlatIndex.Dispose();
        Weights.Dispose();
        Probabilities.Dispose();
        Logits.Dispose();
    }
}

/// <summary>
/// Experts-choose MoE feed-forward under <c>layer.1.MoE</c>: <c>router.weight</c> (E, d) ~ N(0, 0.02²),
/// <c>router.bias</c> (E) = 0, and the E experts' feed-forwards stacked along a leading axis,
/// <c>experts.wi_0.weight</c> / <c>experts.wi_1.weight</c> (E, d_ff, d) and <c>experts.wo.weight</c> (E, d, d_ff)
/// (gated GELU; <c>experts.wi.weight</c> and <c>experts.wo.weight</c> for ReLU), initialised like the dense T5
/// feed-forward. Routing groups are single rows, so a row's output never depends on the rest of the batch.
/// </summary>
public sealed class ExpertsChooseFeedForward : Module
{
    private readonly ModelConfig config;
    private readonly Tensor routerWeight, routerBias;
    private readonly Tensor? wi, wi0, wi1;
    private readonly Tensor wo;
    private readonly Dropout dropout;

    /// <summary>Creates the router and the stacked experts under <paramref name="p"/> (the <c>MoE</c>
    /// module).</summary>
    public ExpertsChooseFeedForward(ParameterBuilder p, ModelConfig config, Dropout dropout)
    {
        ArgumentNullException.ThrowIfNull(config);
        this.config = config;
        this.dropout = Own(dropout);
        int e = config.NumExperts, d = config.DModel, ff = config.DFf;
        var router = p.Sub("router");
        routerWeight = router.Get("weight", new Shape(e, d), Init.Normal(0.02));
        routerBias = router.Get("bias", new Shape(e), Init.Zeros);
        var experts = p.Sub("experts");
        var inStd = Math.Pow(d, -0.5);
        if (config.ReluFeedForward)
        {
            wi = experts.Sub("wi").Get("weight", new Shape(e, ff, d), Init.Normal(inStd));
        }
        else
        {
            wi0 = experts.Sub("wi_0").Get("weight", new Shape(e, ff, d), Init.Normal(inStd));
            wi1 = experts.Sub("wi_1").Get("weight", new Shape(e, ff, d), Init.Normal(inStd));
        }
        wo = experts.Sub("wo").Get("weight", new Shape(e, d, ff), Init.Normal(Math.Pow(ff, -0.5)));
    }

    /// <summary>
    /// h: the normed input (B, n, d) → Σ_(e, c) p[t, e]·FFN_e(h_t) over the slots holding token t (B, n, d); 0 for
    /// tokens no expert chose and for padding. In training mode with router_z_loss &gt; 0 the weighted z-loss
    /// router_z_loss · mean over real tokens of (logsumexp_e z)² is added to the context's auxiliary loss.
    /// </summary>
    public Tensor Forward(Tensor h, EncoderContext context)
    {
        ArgumentNullException.ThrowIfNull(h);
        ArgumentNullException.ThrowIfNull(context);
        using var route = Route(h, context);
        if (Training && config.RouterZLoss > 0 && context.Mask.Any(real => real))
            context.AddAuxiliaryLoss(ZLoss(route.Logits, context));
        return Combine(h, route);
    }

    /// <summary>
    /// The routing decision for <paramref name="h"/> (B, n, d): router logits and probabilities (padding gets
    /// probability 0), then for each row b and expert e the C_b tokens with the highest probability (ties to the
    /// lower position).
    /// </summary>
    public ExpertRoute Route(Tensor h, EncoderContext context)
    {
        ArgumentNullException.ThrowIfNull(h);
        ArgumentNullException.ThrowIfNull(context);
        int batch = h.Shape[0], n = h.Shape[1], experts = config.NumExperts;
        var capacity = Enumerable.Range(0, batch).Select(b => config.ExpertCapacity(context.ValidCount(b))).ToArray();
        var slots = capacity.Max();

        // router in the model's float dtype (float32 or wider), with bias: z = h·Wᵀ + b, p = softmax_e(z)
        using var scores = Tensor.MatMul(h, routerWeight, transposeB: true);        // (B, n, E)
        var logits = scores + routerBias;
        var probabilities = logits.Softmax();
        if (context.RealRows is { } rows)
        {
            using var unmasked = probabilities;
            probabilities = unmasked * rows;                                         // padding: probability 0
        }

        // experts choose: the top-S tokens of each (row, expert) by probability; slots past C_b are padding
        using var byExpert = probabilities.Permute(0, 2, 1);                         // (B, E, n)
        var (values, indices) = byExpert.TopK(slots);                                // (B, E, S)
        using (indices)
        using (values)
        {
            var chosen = indices.ToArray<int>();
            var positions = new int[experts * batch * slots];
            var flat = new int[positions.Length];
            var keep = new double[positions.Length];
            for (var e = 0; e < experts; e++)
            {
                for (var b = 0; b < batch; b++)
                {
                    for (var c = 0; c < slots; c++)
                    {
                        var slot = (e * batch + b) * slots + c;
                        var real = c < capacity[b];
                        positions[slot] = real ? chosen[(b * experts + e) * slots + c] : 0;
                        flat[slot] = b * n + positions[slot];
                        keep[slot] = real ? 1 : 0;
                    }
                }
            }
            var flatIndex = Tensor.FromArray<int>(flat, new Shape(flat.Length), h.Device);
            using var perExpert = values.Permute(1, 0, 2);                          // (E, B, S)
            Tensor weights;
            if (capacity.All(c => c == slots))
            {
                weights = perExpert.Contiguous();
            }
            else
            {
                using var keepHost = Tensor.FromArray<double>(keep, new Shape(experts, batch, slots), h.Device);
                using var keepTyped = keepHost.To(h.DType);
                weights = perExpert * keepTyped;
            }
            return new ExpertRoute(experts, batch, slots, capacity, positions, flatIndex, weights, probabilities,
                logits);
        }
    }

    /// <summary>router_z_loss · mean over real tokens of (logsumexp_e z_t)², a 0-d tensor (logits (B, n, E)).</summary>
    public Tensor ZLoss(Tensor logits, EncoderContext context)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(context);
        var real = context.Mask.Count(r => r);
        using var lse = logits.LogSumExp(2);                                         // (B, n)
        using var squared = lse.Square();
        using var rows = context.RealRows?.Squeeze(2);                              // (B, n) or null
        using var kept = rows is null ? null : squared * rows;
        using var sum = (kept ?? squared).Sum();
        return sum * (config.RouterZLoss / Math.Max(1, real));
    }

    // Every expert's feed-forward on its slots as one batched product (E, B·S, ·), weighted and added back.
    private Tensor Combine(Tensor h, ExpertRoute route)
    {
        int batch = h.Shape[0], n = h.Shape[1], d = h.Shape[2];
        int experts = route.Experts, perExpert = route.Batch * route.Slots;
        using var zeros = Tensor.Zeros(new Shape(batch * n, d), h.DType, h.Device);
        if (route.Slots == 0)
            return zeros.Reshape(batch, n, d);
        using var tokens = h.Reshape(batch * n, d);
        using var gathered = tokens.IndexSelect(0, route.FlatIndex);                 // (E·B·S, d)
        using var inputs = gathered.Reshape(experts, perExpert, d);                  // (E, B·S, d)
        using var hidden = Hidden(inputs);                                           // (E, B·S, d_ff)
        using var dropped = dropout.Forward(hidden);
        using var outputs = Tensor.MatMul(dropped, wo, transposeB: true);            // (E, B·S, d)
        using var flatOutputs = outputs.Reshape(experts * perExpert, d);
        using var weights = route.Weights.Reshape(experts * perExpert, 1);
        using var weighted = flatOutputs * weights;                                  // p[t, e]·FFN_e(h_t)
        using var sums = zeros.IndexAdd(0, route.FlatIndex, weighted);               // (B·n, d)
        return sums.Reshape(batch, n, d);
    }

    // Gated GELU (T5.1.1) or ReLU per expert: (E, M, d) → (E, M, d_ff).
    private Tensor Hidden(Tensor x)
    {
        if (wi is not null)
        {
            using var pre = Tensor.MatMul(x, wi, transposeB: true);
            return pre.Relu();
        }
        using var gate = Tensor.MatMul(x, wi0!, transposeB: true);
        using var act = gate.GeluTanh();
        using var linear = Tensor.MatMul(x, wi1!, transposeB: true);
        return act * linear;
    }
}
