// Small configurations and random batches for model tests.
using System.Linq;
using CoLT5.Model.Configuration;
using CoLT5.Tensors;
using CoLT5.Tensors.Random;

namespace CoLT5.Tests.Model;

public static class ModelTestKit
{
    /// <summary>A very small model of the given encoder type (radius 3 so local attention spans several blocks;
    /// Sparse Mixer: 4 experts, inputs up to 32 tokens, layer 0 mixing + dense FF, layer 1 attention + MoE).</summary>
    public static ModelConfig Micro(string encoder, int kvHeads = 1) => new ModelConfig
    {
        VocabSize = 40,
        DModel = 16,
        DKv = 4,
        DFf = 24,
        NumLayers = 2,
        NumDecoderLayers = 2,
        NumHeads = 4,
        LightHeads = 1,
        HeavyHeads = 3,
        DFfLight = 12,
        DFfHeavy = 48,
        LocalRadius = 3,
        GlobalBlockSize = 4,
        RoutedFfTokens = 3,
        RoutedQTokens = 3,
        RoutedKvTokens = 5,
        NumCrossKvHeads = kvHeads,
        RouterIters = 20,
        NumExperts = 4,
        MixingLength = 32,
    }.WithEncoder(encoder);

    /// <summary>Random ids (B, n) in [3, V) with the last <paramref name="padLastRow"/> tokens of the last row padding.</summary>
    public static (Tensor Ids, bool[] Mask) Inputs(int batch, int n, int vocab, ulong seed, int padLastRow = 0)
    {
        var g = new Generator(seed);
        var ids = new int[batch * n];
        var mask = new bool[batch * n];
        for (var i = 0; i < ids.Length; i++)
        {
            var padded = i / n == batch - 1 && i % n >= n - padLastRow;
            ids[i] = padded ? 0 : 3 + g.NextInt(vocab - 3);
            mask[i] = !padded;
        }
        return (Tensor.FromArray<int>(ids, new Shape(batch, n)), mask);
    }

    /// <summary>Labels (B, t) and the shifted decoder inputs, −100 after the first <paramref name="lengths"/>.</summary>
    public static (Tensor DecoderInputs, Tensor Labels) Targets(int batch, int t, int vocab, ulong seed, int[]? lengths = null)
    {
        var g = new Generator(seed);
        var labels = new int[batch * t];
        var inputs = new int[batch * t];
        for (var b = 0; b < batch; b++)
        {
            var len = lengths?[b] ?? t;
            for (var i = 0; i < t; i++)
                labels[b * t + i] = i < len ? 3 + g.NextInt(vocab - 3) : -100;
            for (var i = 0; i < t; i++)
                inputs[b * t + i] = i == 0 ? 0 : labels[b * t + i - 1] < 0 ? 0 : labels[b * t + i - 1];
        }
        return (Tensor.FromArray<int>(inputs, new Shape(batch, t)), Tensor.FromArray<int>(labels, new Shape(batch, t)));
    }

    public static string[] EncoderNames { get; } =
        ["t5", "longt5-local", "longt5-tglobal", "colt5", "fnet", "sparse-mixer"];

    public static bool[] All(int count) => Enumerable.Repeat(true, count).ToArray();
}
