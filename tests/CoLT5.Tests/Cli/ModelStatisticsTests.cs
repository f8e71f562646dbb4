// The analytic counts behind `colt5 info`: parameters equal a built model's element count for every encoder and
// option, reproduce the spec §3.3 table for Base / Large / XL without allocating, and the §4.1 FLOP formulas give the
// spec's worked example.
using System;
using System.Linq;
using CoLT5.Model;
using CoLT5.Model.Configuration;
using CoLT5.Model.Layers;
using CoLT5.Nn;
using CoLT5.Tensors;
using CoLT5.Tensors.Random;
using CoLT5.Tests.Model;
using Xunit;

namespace CoLT5.Tests.Cli;

public sealed class ModelStatisticsTests
{
    public static TheoryData<string, string, bool, int, bool> Variants()
    {
        var data = new TheoryData<string, string, bool, int, bool>();
        foreach (var encoder in ModelTestKit.EncoderNames)
        {
            data.Add(encoder, "gated-gelu", false, 1, false);
            data.Add(encoder, "relu", true, 4, false);
            data.Add(encoder, "gated-gelu", false, 2, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void CountEqualsTheBuiltModelsElementCount(string encoder, string ff, bool tied, int kvHeads,
        bool nullOutput)
    {
        var config = ModelTestKit.Micro(encoder, kvHeads) with
        {
            FeedForwardProj = ff,
            TieWordEmbeddings = tied,
            RouterNullOutput = nullOutput,
        };
        using var model = Seq2SeqModel.Create(config, seed: 1);
        Assert.Equal(model.Parameters.ElementCount, ModelStatistics.Parameters(config).Total);
    }

    [Theory]
    [InlineData("t5")]
    [InlineData("longt5-local")]
    [InlineData("longt5-tglobal")]
    [InlineData("colt5")]
    [InlineData("fnet")]
    [InlineData("sparse-mixer")]
    public void CountEqualsTheTinyPresetsElementCount(string encoder)
    {
        var config = Presets.Get("tiny").WithEncoder(encoder);
        using var model = Seq2SeqModel.Create(config, seed: 1);
        Assert.Equal(model.Parameters.ElementCount, ModelStatistics.Parameters(config).Total);
    }

    [Theory]
    [InlineData("base", 432.8, 432.7)]
    [InlineData("large", 1462.7, 1462.5)]
    [InlineData("xl", 5297.3, 5296.9)]
    public void PaperSizesAreReproducedWithoutAllocating(string preset, double totalMillions, double matricesMillions)
    {
        var count = ModelStatistics.Parameters(Presets.Get(preset));
        Assert.Equal(totalMillions, Math.Round(count.Total / 1e6, 1));
        Assert.Equal(matricesMillions, Math.Round(count.WeightMatrices / 1e6, 1));
    }

    [Theory]
    [InlineData("base", 247.5)]
    [InlineData("large", 783.0)]
    [InlineData("xl", 2849.5)]
    public void LongT5BaselinesWithAMultiHeadDecoderMatchTheSpec(string preset, double millions)
    {
        var config = Presets.Get(preset).WithEncoder("longt5-tglobal");
        config = config with { NumCrossKvHeads = config.NumHeads };
        Assert.Equal(millions, Math.Round(ModelStatistics.Parameters(config).WeightMatrices / 1e6, 1));
    }

    [Theory]
    [InlineData(64)]
    [InlineData(70)]      // g = 4 does not divide n: the trailing partial block has no global token
    [InlineData(3)]       // shorter than one block: no global token at all
    public void TransientGlobalFlopsCountTheGlobalTokensTheModelBuilds(int length)
    {
        var config = ModelTestKit.Micro("longt5-tglobal");
        using var store = new ParameterStore(DType.Float64, null, new Generator(1));
        var main = new RelativeBias(store.Root().Sub("main"), config.RelativeAttentionNumBuckets, config.NumHeads,
            config.RelativeAttentionMaxDistance, 0.1);
        var side = new RelativeBias(store.Root().Sub("global"), config.RelativeAttentionNumBuckets, config.NumHeads,
            config.RelativeAttentionMaxDistance, 0.1);
        using var context = EncoderContext.Build(config, Enumerable.Repeat(true, length).ToArray(), 1, length,
            new EncoderBiasTables(main, side, null, null), DType.Float64, store.Device);
        Assert.Equal(length / config.GlobalBlockSize, context.GlobalLength);

        var term = ModelStatistics.EncoderLayerFlops(config, length).Terms
            .Single(t => t.Name == "transient-global attention");
        Assert.Equal(2.0 * length * context.GlobalLength * config.NumHeads * config.DKv, term.Flops);
    }

    [Fact]
    public void FlopFormulasGiveTheSpecsWorkedExample()
    {
        // n = 16384, d = 1024, w = 255: T5 ≈ 7.56e11, LongT5 ≈ 2.49e11, CoLT5 ≈ 1.31e11 per layer (spec §4.1)
        var large = Presets.Get("large");
        double Formula(string encoder) => ModelStatistics.EncoderLayerFlops(large.WithEncoder(encoder), 16384)
            .FormulaFlops;
        Assert.Equal(7.56e11, Formula("t5"), 0.01e11);
        Assert.Equal(2.49e11, Formula("longt5-tglobal"), 0.01e11);
        Assert.Equal(1.31e11, Formula("colt5"), 0.01e11);
        Assert.Equal(1.9, Formula("longt5-tglobal") / Formula("colt5"), 0.05);

        // the breakdown uses the config's own routed counts m = q = n/16, v = 2m
        var colt5 = ModelStatistics.EncoderLayerFlops(large, 16384);
        Assert.Contains(colt5.Terms, t => t.Name == "heavy attention" && t.Flops == 2.0 * 1024 * 2048 * 12 * 64);
        Assert.Equal(colt5.BreakdownFlops, colt5.Terms.Sum(t => t.Flops));
    }

    /// <summary>Sparse Mixer Small at n = 512: linear mixing n²d + nd² in layers 0–3, attention in 4–7, experts E·C
    /// tokens through 3·d·d_ff with C = 32 in the MoE layers 2–5; the two-argument count is the mean of the layers.
    /// FNet: the FFT estimate plus the dense feed-forward.</summary>
    [Fact]
    public void MixerFlopsCountTheirSubLayers()
    {
        const int n = 512;
        var small = Presets.Get("small").WithEncoder("sparse-mixer");
        var layers = Enumerable.Range(0, 8).Select(i => ModelStatistics.EncoderLayerFlops(small, n, i)).ToArray();
        Assert.Contains(layers[0].Terms, t => t.Name == "linear mixing" && t.Flops == n * n * 512.0 + n * 512.0 * 512);
        Assert.Contains(layers[0].Terms, t => t.Name == "feed-forward");
        Assert.Contains(layers[2].Terms, t => t.Name == "MoE experts" && t.Flops == 16.0 * 32 * 3 * 512 * 1024);
        Assert.Contains(layers[5].Terms, t => t.Name == "attention scores + weighted sum");
        Assert.DoesNotContain(layers[7].Terms, t => t.Name.StartsWith("MoE", StringComparison.Ordinal));
        var mean = ModelStatistics.EncoderLayerFlops(small, n);
        Assert.Equal(layers.Average(l => l.BreakdownFlops), mean.BreakdownFlops, 1e-3);
        Assert.Equal(layers.Average(l => l.FormulaFlops), mean.FormulaFlops, 1e-3);

        var fnet = ModelStatistics.EncoderLayerFlops(Presets.Get("base").WithEncoder("fnet"), n);
        Assert.Equal(2.5 * n * 768 * Math.Log2(n * 768.0), fnet.Terms.Single(t => t.Name.StartsWith("Fourier",
            StringComparison.Ordinal)).Flops, 1e-3);
        Assert.Equal(3.0 * n * 768 * 2048, fnet.Terms.Single(t => t.Name == "feed-forward").Flops);
    }
}
