// The attention-free token mixers: FNet's Fourier sub-layer ignores padding content (and, as documented, not the
// padded length), Sparse Mixer's linear mixing equals A[:n, :n]·X·B with zeroed padding rows, rejects inputs longer
// than its kernel with a typed error, and both pass float64 finite-difference gradient checks inside a whole block.
using System;
using System.Linq;
using CoLT5.Model;
using CoLT5.Model.Layers;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;
using CoLT5.Tests.Testing;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Model;

[Trait("Category", "Model")]
public sealed class TokenMixingTests
{
    /// <summary>B rows of n positions, the last row's final <see cref="Pad"/> positions padding.</summary>
    public sealed record Draw(int Batch, int N, int Pad, ulong Seed)
    {
        public bool[] Mask => LayerTestKit.Trailing([.. Enumerable.Repeat(N, Batch - 1), N - Pad], N);

        public override string ToString() => $"B {Batch}, n {N} (last row {Pad} padding), seed {Seed}";
    }

    private static readonly Gen<Draw> Draws =
        from batch in Gen.Choose(1, 3)
        from n in Gen.Choose(1, 12)
        from pad in Gen.Choose(0, n - 1)
        from seed in TensorGen.Seed
        select new Draw(batch, n, pad, seed);

    /// <summary>Different ids at padded positions leave every real position of the FNet encoder's output
    /// unchanged, bit for bit: padded rows are zero when the transform reads them.</summary>
    [Fact]
    public void FourierEncoderOutputsIgnorePaddingContent() => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        using var model = Seq2SeqModel.Create(ModelTestKit.Micro("fnet"), d.Seed, DType.Float64);
        var g = new Generator(d.Seed + 1);
        var ids = Enumerable.Range(0, d.Batch * d.N).Select(_ => 3 + g.NextInt(37)).ToArray();
        var other = ids.Select((id, i) => d.Mask[i] ? id : 3 + g.NextInt(37)).ToArray();
        var a = model.Encode(Tensor.FromArray<int>(ids, new Shape(d.Batch, d.N)), d.Mask).ToDoubleArray();
        var b = model.Encode(Tensor.FromArray<int>(other, new Shape(d.Batch, d.N)), d.Mask).ToDoubleArray();
        var real = Enumerable.Range(0, a.Length).Where(i => d.Mask[i / 16]).ToArray();
        Closeness.AssertExact($"{d}", real.Select(i => b[i]).ToArray(), real.Select(i => a[i]).ToArray());
    });

    /// <summary>The documented limit of zeroing: the padded length sets the DFT's frequency grid, so one more
    /// padded position changes the real outputs (the reason FNet is left out of PaddingInvarianceTests).</summary>
    [Fact]
    public void FourierEncoderOutputsDependOnThePaddedLength()
    {
        using var scope = DisposeScope.Enter();
        using var model = Seq2SeqModel.Create(ModelTestKit.Micro("fnet"), 3, DType.Float64);
        int[] ids = [5, 9, 12, 7, 30, 4];
        var alone = model.Encode(Tensor.FromArray<int>(ids, new Shape(1, 6)), ModelTestKit.All(6)).ToDoubleArray();
        var padded = model.Encode(Tensor.FromArray<int>([.. ids, 0], new Shape(1, 7)), [.. ModelTestKit.All(6), false])
            .ToDoubleArray();
        var gap = Enumerable.Range(0, alone.Length).Max(i => Math.Abs(alone[i] - padded[i]));
        Assert.True(gap > 1e-3, $"real outputs moved by only {gap:E2} with one more padded position");
    }

    /// <summary>y = A[:n, :n]·(m ⊙ x)·B ⊙ m with m the real-row mask, computed on the host in float64.</summary>
    [Fact]
    public void LinearMixingIsTheLeadingBlockOfTheKernelTimesXTimesB() => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        var config = ModelTestKit.Micro("sparse-mixer") with { MixingLength = 13 };
        using var store = LayerTestKit.Store(d.Seed);
        var mixing = new LinearMixing(store.Root("Mixing"), config);
        var x = TensorGen.Normal([d.Batch, d.N, 16], d.Seed + 1);
        using var context = LayerTestKit.Context(config, d.Mask, d.Batch, d.N, LayerTestKit.Tables(config, store));
        var got = mixing.Forward(x, context).ToDoubleArray();
        double[] a = mixing.SeqKernel.ToDoubleArray(), b = mixing.HiddenKernel.ToDoubleArray(), v = x.ToDoubleArray();
        var want = new double[got.Length];
        for (var r = 0; r < d.Batch; r++)
        {
            for (var i = 0; i < d.N; i++)
            {
                if (!d.Mask[r * d.N + i])
                    continue;
                for (var k = 0; k < 16; k++)
                {
                    double sum = 0;
                    for (var j = 0; j < d.N; j++)
                    {
                        if (!d.Mask[r * d.N + j])
                            continue;
                        for (var c = 0; c < 16; c++)
                            sum += a[i * 13 + j] * v[(r * d.N + j) * 16 + c] * b[c * 16 + k];
                    }
                    want[(r * d.N + i) * 16 + k] = sum;
                }
            }
        }
        Closeness.Assert($"{d}", got, want, 1e-12);
    });

    [Fact]
    public void LinearMixingRejectsInputsLongerThanItsKernel()
    {
        using var scope = DisposeScope.Enter();
        var config = ModelTestKit.Micro("sparse-mixer");
        using var model = Seq2SeqModel.Create(config, 1, DType.Float64);
        var (ids, mask) = ModelTestKit.Inputs(1, config.MixingLength + 1, config.VocabSize, 2);
        var error = Assert.Throws<MixingLengthException>(() => model.Encode(ids, mask));
        Assert.Equal(33, error.Length);
        Assert.Equal(32, error.MixingLength);
        Assert.Contains("33 positions", error.Message, StringComparison.Ordinal);
        Assert.Contains("mixing_length 32", error.Message, StringComparison.Ordinal);
        var (fits, fitsMask) = ModelTestKit.Inputs(1, config.MixingLength, config.VocabSize, 2);
        Assert.Equal(new Shape(1, 32, 16), model.Encode(fits, fitsMask).Shape);
    }

    /// <summary>Whole FNet and Sparse Mixer blocks (Fourier or linear mixing, dense feed-forward) w.r.t. their
    /// input and parameters, real rows only.</summary>
    [Theory]
    [InlineData("fnet")]
    [InlineData("sparse-mixer")]
    public void MixingBlockGradients(string encoder) => Props.Check(Draws, d =>
    {
        using var scope = DisposeScope.Enter();
        var config = ModelTestKit.Micro(encoder);
        using var store = LayerTestKit.Store(d.Seed);
        var tables = LayerTestKit.Tables(config, store);
        var layer = new EncoderLayer(store.Root("encoder.block.0"), config, LayerTestKit.NoDropout(), index: 0);
        var x = TensorGen.Normal([d.Batch, d.N, 16], d.Seed + 100);
        Tensor F()
        {
            using var context = LayerTestKit.Context(config, d.Mask, d.Batch, d.N, tables);
            using var y = layer.Forward(x, context);
            return LayerTestKit.RealRows(y, d.Mask);
        }
        LayerTestKit.Gradients($"{encoder} {d}", F, [x], store, d.Seed);
    }, name: nameof(MixingBlockGradients) + "." + encoder);
}
