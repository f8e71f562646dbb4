// Checkpoint save → load is bit-exact for every encoder type and option: same config, same parameter names, shapes,
// dtypes and bits, and the loaded model's encoder output and logits equal the original's bit for bit.
using System;
using System.Linq;
using CoLT5.Model;
using CoLT5.Model.Checkpoints;
using CoLT5.Model.Configuration;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;
using CoLT5.Tests.Training;
using Xunit;

namespace CoLT5.Tests.Model;

[Trait("Category", "Model")]
public sealed class CheckpointRoundTripTests
{
    public static TheoryData<string, DType> EncodersAndDTypes()
    {
        var data = new TheoryData<string, DType>();
        foreach (var encoder in ModelTestKit.EncoderNames)
        {
            data.Add(encoder, DType.Float32);
            data.Add(encoder, DType.Float64);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EncodersAndDTypes))]
    public void SaveThenLoadIsBitExact(string encoder, DType dtype) => RoundTrip(ModelTestKit.Micro(encoder), dtype);

    /// <summary>The options that change which parameters exist or how they are named.</summary>
    [Theory]
    [InlineData("tied")]
    [InlineData("relu")]
    [InlineData("gqa")]
    [InlineData("colt5-options")]
    public void SaveThenLoadIsBitExactWithOptions(string option) => RoundTrip(option switch
    {
        "tied" => ModelTestKit.Micro("t5") with { TieWordEmbeddings = true },
        "relu" => ModelTestKit.Micro("longt5-local") with { FeedForwardProj = "relu" },
        "gqa" => ModelTestKit.Micro("longt5-tglobal", kvHeads: 2),
        _ => ModelTestKit.Micro("colt5") with
        {
            RouterNullOutput = true,
            RouterKvScaling = "values",
            RouterStraightThrough = true,
            RouterEpsInit = 4,
            RouterEpsDecay = 0.7,
            RoutedFfTokens = 0.25,
        },
    }, DType.Float64);

    private static void RoundTrip(ModelConfig config, DType dtype)
    {
        using var scope = DisposeScope.Enter();
        using var dir = new TempDirectory("colt5-checkpoint");
        using var model = Seq2SeqModel.Create(config, 31, dtype);
        Perturb(model, 32);
        Checkpoint.Save(model, dir.Path);
        using var loaded = Checkpoint.Load(dir.Path, dtype);

        Assert.Equal(model.Config, loaded.Config);
        var saved = model.Parameters.Parameters.ToDictionary(p => p.Name, p => p.Tensor);
        var read = loaded.Parameters.Parameters.ToDictionary(p => p.Name, p => p.Tensor);
        Assert.Equal(saved.Keys.Order(), read.Keys.Order());
        foreach (var (name, tensor) in saved)
        {
            Assert.Equal(tensor.Shape, read[name].Shape);
            Assert.Equal(tensor.DType, read[name].DType);
            Assert.True(Bits(tensor).SequenceEqual(Bits(read[name])), $"{name} changed in the round trip");
        }

        // the same forward, bit for bit (training mode: the router's k' = 9/8·k path)
        var (ids, mask) = ModelTestKit.Inputs(2, 13, config.VocabSize, 33, padLastRow: 4);
        var (decoderIds, labels) = ModelTestKit.Targets(2, 5, config.VocabSize, 34, [5, 3]);
        using var noGrad = Tensor.NoGrad();
        foreach (var training in new[] { true, false })
        {
            model.Train(training);
            loaded.Train(training);
            using var want = model.Forward(ids, mask, decoderIds, labels);
            using var got = loaded.Forward(ids, mask, decoderIds, labels);
            Assert.True(Bits(want.Logits).SequenceEqual(Bits(got.Logits)), $"logits differ (training {training})");
            Assert.True(Bits(want.Loss!).SequenceEqual(Bits(got.Loss!)), $"loss differs (training {training})");
            using var encodedWant = model.Encode(ids, mask);
            using var encodedGot = loaded.Encode(ids, mask);
            Assert.True(Bits(encodedWant).SequenceEqual(Bits(encodedGot)),
                $"encoder output differs (training {training})");
        }
    }

    // Moves every parameter off its initial value (norms start at 1, the null output at 0) so a round trip cannot
    // pass by re-initialising.
    private static void Perturb(Seq2SeqModel model, ulong seed)
    {
        using var scope = DisposeScope.Enter();
        using var noGrad = Tensor.NoGrad();
        var g = new Generator(seed);
        foreach (var (_, p) in model.Parameters.Parameters)
            p.AddInPlace(Tensor.RandN(p.Shape, g, 0, 0.1, p.DType));
    }

    private static long[] Bits(Tensor t) => t.DType == DType.Float32
        ? t.ToArray<float>().Select(v => (long)BitConverter.SingleToInt32Bits(v)).ToArray()
        : t.ToArray<double>().Select(BitConverter.DoubleToInt64Bits).ToArray();
}
