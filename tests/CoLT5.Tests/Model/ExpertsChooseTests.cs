// Sparse Mixer's experts-choose MoE feed-forward: every expert takes exactly C_b tokens of each row (its top C_b by
// router probability, real tokens only), the combine weights are those probabilities, the output equals a dense
// per-expert reference and is exactly 0 for tokens no expert chose, a row's output does not depend on the rest of the
// batch, the router z-loss is router_z_loss·mean(logsumexp²) and reaches the training loss, and gradients (of the
// layer, of the z-loss, of a whole attention + MoE block) match float64 finite differences.
using System;
using System.Linq;
using CoLT5.Model;
using CoLT5.Model.Configuration;
using CoLT5.Model.Layers;
using CoLT5.Nn;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tests.Testing;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Model;

[Trait("Category", "Model")]
public sealed class ExpertsChooseTests
{
    /// <summary>Rows of n positions with the given real lengths, E experts at capacity factor cf.</summary>
    public sealed record Draw(int[] Valid, int N, int Experts, double Factor, bool Relu, ulong Seed)
    {
        public int Batch => Valid.Length;

        public bool[] Mask => LayerTestKit.Trailing(Valid, N);

        public ModelConfig Config => ModelTestKit.Micro("sparse-mixer") with
        {
            NumExperts = Experts,
            ExpertCapacityFactor = Factor,
            FeedForwardProj = Relu ? "relu" : "gated-gelu",
            RouterZLoss = 0.01,
        };

        public override string ToString() =>
            $"real [{string.Join(", ", Valid)}] of n {N}, E {Experts}, cf {Factor}, {(Relu ? "relu" : "gated")}, " +
            $"seed {Seed}";
    }

    private static readonly Gen<Draw> Draws =
        from batch in Gen.Choose(1, 3)
        from n in Gen.Frequency((3, Gen.Choose(1, 12)), (1, Gen.Choose(20, 48)))
        from valid in Gen.Choose(0, n).ArrayOf(batch)
        from experts in Gen.Choose(1, 5)
        from factor in Gen.Elements(0.5, 1.0, 2.0)
        from relu in Gen.Elements(false, false, true)
        from seed in TensorGen.Seed
        select new Draw(valid.Select((v, i) => i == 0 ? Math.Max(v, 1) : v).ToArray(), n, experts, factor, relu,
            seed);

    private sealed record Setup(ParameterStore Store, ExpertsChooseFeedForward Moe, EncoderContext Context, Tensor H)
        : IDisposable
    {
        public void Dispose()
        {
            Context.Dispose();
            Store.Dispose();
        }
    }

    private static Setup Build(Draw d, ulong? seed = null)
    {
        var store = LayerTestKit.Store(seed ?? d.Seed);
        var moe = new ExpertsChooseFeedForward(store.Root("MoE"), d.Config, LayerTestKit.NoDropout());
        var context = LayerTestKit.Context(d.Config, d.Mask, d.Batch, d.N, LayerTestKit.Tables(d.Config, store));
        var h = TensorGen.Normal([d.Batch, d.N, 16], (seed ?? d.Seed) + 1, scale: 2);
        return new Setup(store, moe, context, h);
    }

    [Fact]
    public void EachExpertTakesExactlyItsCapacityOfTheMostProbableRealTokens() => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        using var s = Build(d);
        using var route = s.Moe.Route(s.H, s.Context);
        var p = route.Probabilities.ToDoubleArray();
        var weights = route.Weights.ToDoubleArray();
        for (var b = 0; b < d.Batch; b++)
        {
            var capacity = d.Config.ExpertCapacity(d.Valid[b]);
            Assert.Equal(capacity, route.Capacity[b]);
            for (var e = 0; e < d.Experts; e++)
            {
                var slots = Enumerable.Range(0, route.Slots).Select(c => (e * d.Batch + b) * route.Slots + c).ToArray();
                var taken = slots.Take(capacity).Select(i => route.Positions[i]).ToArray();
                Assert.Equal(capacity, taken.Distinct().Count());
                Assert.All(taken, t => Assert.True(t < d.Valid[b], $"{d}: expert {e} took padding {t} of row {b}"));
                // the top C_b real tokens by probability (ties to the lower position)
                var want = Enumerable.Range(0, d.Valid[b]).OrderByDescending(t => p[(b * d.N + t) * d.Experts + e])
                    .ThenBy(t => t).Take(capacity).Order();
                Assert.Equal(want, taken.Order());
                // combine weights are the router probabilities, 0 on padding slots
                for (var c = 0; c < route.Slots; c++)
                {
                    var expected = c < capacity ? p[(b * d.N + route.Positions[slots[c]]) * d.Experts + e] : 0;
                    Assert.Equal(expected, weights[slots[c]]);
                }
            }
        }
    });

    /// <summary>Probabilities are the softmax of the logits over experts at real tokens and 0 at padding.</summary>
    [Fact]
    public void RouterProbabilitiesAreASoftmaxOverExpertsWithPaddingAtZero() => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        using var s = Build(d);
        using var route = s.Moe.Route(s.H, s.Context);
        var z = route.Logits.ToDoubleArray();
        var p = route.Probabilities.ToDoubleArray();
        var want = new double[p.Length];
        for (var t = 0; t < d.Batch * d.N; t++)
        {
            if (!d.Mask[t])
                continue;
            var row = z.Skip(t * d.Experts).Take(d.Experts).ToArray();
            var max = row.Max();
            var sum = row.Sum(v => Math.Exp(v - max));
            for (var e = 0; e < d.Experts; e++)
                want[t * d.Experts + e] = Math.Exp(row[e] - max) / sum;
        }
        Closeness.Assert($"{d}", p, want, 1e-14);
    });

    /// <summary>y_t = Σ_e K[t, e]·FFN_e(h_t) with K the probability where expert e chose t, else 0; tokens no expert
    /// chose (and padding) get exactly 0.</summary>
    [Fact]
    public void OutputIsTheWeightedSumOfTheChoosingExpertsAndZeroElsewhere() => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        using var s = Build(d);
        var got = s.Moe.Forward(s.H, s.Context).ToDoubleArray();
        using var route = s.Moe.Route(s.H, s.Context);
        var p = route.Probabilities.ToDoubleArray();
        var combine = new double[d.Batch * d.N * d.Experts];
        for (var e = 0; e < d.Experts; e++)
        {
            for (var b = 0; b < d.Batch; b++)
            {
                for (var c = 0; c < route.Capacity[b]; c++)
                {
                    var t = b * d.N + route.Positions[(e * d.Batch + b) * route.Slots + c];
                    combine[t * d.Experts + e] = p[t * d.Experts + e];
                }
            }
        }
        var want = new double[got.Length];
        for (var e = 0; e < d.Experts; e++)
        {
            var ffn = Expert(s.Store, d, e, s.H).ToDoubleArray();                      // (B, n, d)
            for (var i = 0; i < want.Length; i++)
                want[i] += combine[i / 16 * d.Experts + e] * ffn[i];
        }
        Closeness.Assert($"{d}", got, want, 1e-12);
        for (var t = 0; t < d.Batch * d.N; t++)
        {
            if (Enumerable.Range(0, d.Experts).All(e => combine[t * d.Experts + e] == 0))
                Assert.All(got.Skip(t * 16).Take(16), v => Assert.Equal(0.0, v));
        }
    });

    /// <summary>Routing groups are single rows: each row's output alone equals its output inside the batch.</summary>
    [Fact]
    public void OutputsPerRowDoNotDependOnTheRestOfTheBatch() => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        using var s = Build(d);
        var batched = s.Moe.Forward(s.H, s.Context).ToDoubleArray();
        for (var b = 0; b < d.Batch; b++)
        {
            var one = d with { Valid = [d.Valid[b]] };
            using var h = s.H.Narrow(0, b, 1);
            using var context = LayerTestKit.Context(one.Config, one.Mask, 1, d.N, LayerTestKit.Tables(d.Config,
                s.Store));
            var alone = s.Moe.Forward(h, context).ToDoubleArray();
            Closeness.Assert($"{d} row {b}", batched.Skip(b * d.N * 16).Take(d.N * 16).ToArray(), alone, 1e-13);
        }
    });

    /// <summary>router_z_loss · mean over real tokens of (logsumexp_e z)², recorded in training mode only.</summary>
    [Fact]
    public void ZLossIsTheWeightedMeanOfSquaredLogSumExp() => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        using var s = Build(d);
        using var route = s.Moe.Route(s.H, s.Context);
        var z = route.Logits.ToDoubleArray();
        var real = Enumerable.Range(0, d.Batch * d.N).Where(t => d.Mask[t]).ToArray();
        var want = 0.01 * real.Average(t =>
        {
            var row = z.Skip(t * d.Experts).Take(d.Experts).ToArray();
            var max = row.Max();
            return Math.Pow(max + Math.Log(row.Sum(v => Math.Exp(v - max))), 2);
        });
        Assert.Equal(want, s.Moe.ZLoss(route.Logits, s.Context).Item(), 1e-14);
        s.Moe.Train();
        s.Moe.Forward(s.H, s.Context);
        using var recorded = s.Context.TakeAuxiliaryLoss();
        Assert.Equal(want, recorded!.Item(), 1e-14);
        s.Moe.Eval();
        s.Moe.Forward(s.H, s.Context);
        Assert.Null(s.Context.TakeAuxiliaryLoss());
    });

    [Fact]
    public void ZLossGradientMatchesFiniteDifferences() => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        using var s = Build(d);
        Tensor F()
        {
            using var route = s.Moe.Route(s.H, s.Context);
            return s.Moe.ZLoss(route.Logits, s.Context);
        }
        LayerTestKit.Gradients($"{d}", F, [s.H], s.Store, d.Seed, share: 1);
    });

    /// <summary>The layer w.r.t. its input and every parameter (router and experts), on draws whose selections sit at
    /// least 1e-5 in probability from a change (a ±1e-6 step cannot swap a chosen and an unchosen token).</summary>
    [Fact]
    public void LayerGradientsMatchFiniteDifferences()
    {
        var checkedDraws = 0;
        Props.Check(Draws, d =>
        {
            using var scope = DisposeScope.Enter();
            if (LayerTestKit.FirstFit(d.Seed, seed => SelectionMargin(d, seed) > 1e-5) is not { } seed)
                return;
            using var s = Build(d, seed);
            s.Moe.Eval();
            LayerTestKit.Gradients($"{d} (seed {seed})", () => LayerTestKit.RealRows(s.Moe.Forward(s.H, s.Context),
                d.Mask), [s.H], s.Store, seed, share: 1);
            checkedDraws++;
        });
        Assert.True(checkedDraws >= Props.Tests / 2, $"only {checkedDraws} draws were fit for finite differences");
    }

    /// <summary>A whole Sparse Mixer block of the upper kind: T5 self-attention with the relative bias, then the
    /// MoE feed-forward (block 1 of the micro model).</summary>
    [Fact]
    public void AttentionAndMoeBlockGradientsMatchFiniteDifferences()
    {
        var checkedDraws = 0;
        Props.Check(Draws, d =>
        {
            using var scope = DisposeScope.Enter();
            if (LayerTestKit.FirstFit(d.Seed, seed => BlockMargin(d, seed) > 1e-5) is not { } seed)
                return;
            using var store = LayerTestKit.Store(seed);
            var (layer, tables) = Block(store, d.Config);
            layer.Eval();
            var x = TensorGen.Normal([d.Batch, d.N, 16], seed + 1);
            Tensor F()
            {
                using var context = LayerTestKit.Context(d.Config, d.Mask, d.Batch, d.N, tables);
                using var y = layer.Forward(x, context);
                return LayerTestKit.RealRows(y, d.Mask);
            }
            LayerTestKit.Gradients($"{d} (seed {seed})", F, [x], store, seed);
            checkedDraws++;
        });
        Assert.True(checkedDraws >= Props.Tests / 2, $"only {checkedDraws} draws were fit for finite differences");
    }

    /// <summary>In training mode the model's loss is cross-entropy plus the summed router z-loss, reported apart;
    /// in evaluation mode there is no auxiliary loss.</summary>
    [Fact]
    public void TheModelAddsTheZLossToItsTrainingLoss()
    {
        using var scope = DisposeScope.Enter();
        var config = ModelTestKit.Micro("sparse-mixer") with { RouterZLoss = 0.5 };
        using var model = Seq2SeqModel.Create(config, 4, DType.Float64);
        var (ids, mask) = ModelTestKit.Inputs(2, 11, config.VocabSize, 5, padLastRow: 3);
        var (dec, labels) = ModelTestKit.Targets(2, 4, config.VocabSize, 6);
        model.Train();
        using var trained = model.Forward(ids, mask, dec, labels);
        using var plain = Tensor.CrossEntropy(trained.Logits, labels);
        Assert.NotNull(trained.AuxiliaryLoss);
        Assert.True(trained.AuxiliaryLoss!.Item() > 0);
        Assert.Equal(plain.Item() + trained.AuxiliaryLoss.Item(), trained.Loss!.Item(), 1e-12);
        model.Eval();
        using var evaluated = model.Forward(ids, mask, dec, labels);
        Assert.Null(evaluated.AuxiliaryLoss);
    }

    // FFN_e(h) of expert e on every token, from the stacked weights with plain tensor ops: (B, n, d).
    private static Tensor Expert(ParameterStore store, Draw d, int e, Tensor h)
    {
        using var noGrad = Tensor.NoGrad();
        using var wo = store.Find("MoE.experts.wo.weight")!.Select(0, e);
        if (d.Relu)
        {
            using var wi = store.Find("MoE.experts.wi.weight")!.Select(0, e);
            using var pre = Tensor.MatMul(h, wi, transposeB: true);
            using var act = pre.Relu();
            return Tensor.MatMul(act, wo, transposeB: true);
        }
        using var wi0 = store.Find("MoE.experts.wi_0.weight")!.Select(0, e);
        using var wi1 = store.Find("MoE.experts.wi_1.weight")!.Select(0, e);
        using var gate = Tensor.MatMul(h, wi0, transposeB: true);
        using var gelu = gate.GeluTanh();
        using var linear = Tensor.MatMul(h, wi1, transposeB: true);
        using var hidden = gelu * linear;
        return Tensor.MatMul(hidden, wo, transposeB: true);
    }

    // The smallest probability gap, over rows and experts that leave tokens out, between the last chosen and the
    // first unchosen real token; with ReLU experts also the distance of the pre-activations from the kink.
    private static double SelectionMargin(Draw d, ulong seed)
    {
        using var scope = DisposeScope.Enter();
        using var s = Build(d, seed);
        using var noGrad = Tensor.NoGrad();
        using var route = s.Moe.Route(s.H, s.Context);
        var margin = Gap(route.Probabilities.ToDoubleArray(), d);
        if (d.Relu)
        {
            using var pre = Tensor.MatMul(s.H.Unsqueeze(1), s.Store.Find("MoE.experts.wi.weight")!, transposeB: true);
            margin = Math.Min(margin, pre.ToDoubleArray().Min(Math.Abs));
        }
        return margin;
    }

    private static double Gap(double[] p, Draw d)
    {
        var gap = double.PositiveInfinity;
        for (var b = 0; b < d.Batch; b++)
        {
            var capacity = d.Config.ExpertCapacity(d.Valid[b]);
            if (capacity >= d.Valid[b])
                continue;
            for (var e = 0; e < d.Experts; e++)
            {
                var sorted = Enumerable.Range(0, d.Valid[b]).Select(t => p[(b * d.N + t) * d.Experts + e])
                    .OrderDescending().ToArray();
                gap = Math.Min(gap, sorted[capacity - 1] - sorted[capacity]);
            }
        }
        return gap;
    }

    private static (EncoderLayer Layer, EncoderBiasTables Tables) Block(ParameterStore store, ModelConfig config) =>
        (new EncoderLayer(store.Root("encoder.block.1"), config, LayerTestKit.NoDropout(), index: 1),
            LayerTestKit.Tables(config, store));

    // The selection margin of the block's MoE at its actual input: the normed output of the attention sub-layer.
    private static double BlockMargin(Draw d, ulong seed)
    {
        using var scope = DisposeScope.Enter();
        using var noGrad = Tensor.NoGrad();
        using var store = LayerTestKit.Store(seed);
        var (layer, tables) = Block(store, d.Config);
        var x = TensorGen.Normal([d.Batch, d.N, 16], seed + 1);
        using var context = LayerTestKit.Context(d.Config, d.Mask, d.Batch, d.N, tables);
        var moe = new ExpertsChooseFeedForward(store.Root("encoder.block.1.layer.1.MoE"), d.Config,
            LayerTestKit.NoDropout());
        var attention = new MultiHeadAttention(store.Root("encoder.block.1.layer.0.SelfAttention"), 16,
            d.Config.NumHeads, d.Config.NumHeads, d.Config.DKv, LayerTestKit.NoDropout());
        var eps = d.Config.LayerNormEpsilon;
        using var norm0 = x.RmsNorm(store.Find("encoder.block.1.layer.0.layer_norm.weight")!, eps);
        using var attended = attention.Forward(norm0, context.FullBias);
        using var residual = x + attended;
        using var norm1 = residual.RmsNorm(store.Find("encoder.block.1.layer.1.layer_norm.weight")!, eps);
        using var route = moe.Route(norm1, context);
        var margin = Gap(route.Probabilities.ToDoubleArray(), d);
        if (d.Relu)
        {
            var wi = store.Find("encoder.block.1.layer.1.MoE.experts.wi.weight")!;
            using var pre = Tensor.MatMul(norm1.Unsqueeze(1), wi, transposeB: true);
            margin = Math.Min(margin, pre.ToDoubleArray().Min(Math.Abs));
        }
        return margin;
    }
}
