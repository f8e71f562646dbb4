// Decoder invariants: changing future decoder inputs leaves earlier logits bit for bit unchanged (causal mask), and
// decoding step by step (or in chunks) with the self-attention key/value cache gives the full forward's logits.
using System;
using System.Collections.Generic;
using System.Linq;
using CoLT5.Model;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;
using CoLT5.Tests.Testing;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Model;

[Trait("Category", "Model")]
public sealed class DecoderInvariantTests
{
    /// <summary>B rows of n encoder tokens (the last row padded by <see cref="Pad"/>) and t decoder inputs, cross
    /// attention with <see cref="KvHeads"/> of the 4 heads, one of the encoder types.</summary>
    public sealed record Draw(string Encoder, int Batch, int N, int Pad, int T, int KvHeads, bool Training, ulong Seed)
    {
        public override string ToString() =>
            $"{Encoder}, B {Batch}, n {N} (last row {Pad} padding), t {T}, kv heads {KvHeads}, " +
            $"{(Training ? "training" : "eval")}, seed {Seed}";
    }

    private static readonly Gen<Draw> Draws =
        from encoder in Gen.Elements(ModelTestKit.EncoderNames)
        from batch in Gen.Choose(1, 3)
        from n in Gen.Choose(1, 11)
        from pad in Gen.Choose(0, n - 1)
        from t in Gen.Choose(1, 8)
        from kvHeads in Gen.Elements(1, 2, 4)
        from training in Gen.Elements(true, false)
        from seed in TensorGen.Seed
        select new Draw(encoder, batch, n, pad, t, kvHeads, training, seed);

    private static Seq2SeqModel Model(Draw d)
    {
        var model = Seq2SeqModel.Create(ModelTestKit.Micro(d.Encoder, d.KvHeads), d.Seed, DType.Float64);
        model.Train(d.Training);
        return model;
    }

    private static int[] Targets(Draw d, Generator g) =>
        Enumerable.Range(0, d.Batch * d.T).Select(_ => 3 + g.NextInt(37)).ToArray();

    [Fact]
    public void FutureInputsCannotChangePastLogits() => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        using var model = Model(d);
        var (ids, mask) = ModelTestKit.Inputs(d.Batch, d.N, 40, d.Seed + 1, d.Pad);
        var g = new Generator(d.Seed + 2);
        var before = Targets(d, g);
        // every row keeps its first `keep` inputs and gets new ones after them
        var keep = g.NextInt(d.T);
        var after = before.Select((v, i) => i % d.T < keep ? v : 3 + g.NextInt(37)).ToArray();
        var shape = new Shape(d.Batch, d.T);
        using var encoded = model.Encode(ids, mask);
        double[] Logits(int[] inputs)
        {
            using var state = model.StartDecoding(encoded, mask);
            using var decoderIds = Tensor.FromArray<int>(inputs, shape);
            using var logits = model.DecodeLogits(decoderIds, state);
            return logits.ToDoubleArray();
        }
        var (x, y) = (Logits(before), Logits(after));
        var vocab = x.Length / (d.Batch * d.T);
        for (var i = 0; i < x.Length; i++)
        {
            if (i / vocab % d.T < keep)
                Assert.True(x[i] == y[i], $"{d}: position {i / vocab % d.T} < {keep} changed: {x[i]:R} → {y[i]:R}");
        }
    });

    [Fact]
    public void CachedDecodingMatchesTheFullForward() => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        using var model = Model(d);
        var (ids, mask) = ModelTestKit.Inputs(d.Batch, d.N, 40, d.Seed + 1, d.Pad);
        var g = new Generator(d.Seed + 2);
        var targets = Targets(d, g);
        using var decoderIds = Tensor.FromArray<int>(targets, new Shape(d.Batch, d.T));
        using var full = model.Forward(ids, mask, decoderIds);
        var want = full.Logits.ToDoubleArray();
        // one token at a time (as generation does), then in random chunks
        foreach (var chunks in new[] { Enumerable.Repeat(1, d.T).ToArray(), Chunks(d.T, g) })
        {
            using var encoded = model.Encode(ids, mask);
            using var state = model.StartDecoding(encoded, mask);
            var steps = new List<Tensor>();
            var start = 0;
            foreach (var size in chunks)
            {
                using var step = decoderIds.Narrow(1, start, size);
                steps.Add(model.DecodeLogits(step, state));
                start += size;
            }
            Assert.Equal(d.T, state.Length);
            using var got = Tensor.Cat(steps, 1);
            Closeness.Assert($"{d}: chunks [{string.Join(", ", chunks)}]", got.ToDoubleArray(), want, 1e-12);
        }
    });

    private static int[] Chunks(int t, Generator g)
    {
        var sizes = new List<int>();
        for (var left = t; left > 0;)
        {
            var size = 1 + g.NextInt(Math.Min(left, 3));
            sizes.Add(size);
            left -= size;
        }
        return [.. sizes];
    }
}
