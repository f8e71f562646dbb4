// One encoder layer case of `layers`, run inside its own child process: builds a T5 / LongT5-local /
// LongT5-TGlobal / CoLT5 layer at the PyTorch peer's sizes (or an FNet / Sparse Mixer layer at the same widths,
// which the peer does not have) on the CPU or a GPU, checks its float32 against the
// CPU's float64 on a short input, then times forward (eval, no grad) or forward+backward (train, gradient into the
// input and every parameter); on a GPU each timed call ends with a device synchronisation.
using System;
using System.Linq;
using CoLT5.Backends.Cpu;
using CoLT5.Backends.Gpu;
using CoLT5.Model.Configuration;
using CoLT5.Model.Layers;
using CoLT5.Nn;
using CoLT5.Nn.Modules;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;

namespace CoLT5.Perf.Cases;

/// <summary>The layers `layers` knows, by the peer's names.</summary>
public static class LayerKinds
{
    public static readonly string[] All = ["t5", "local", "tglobal", "colt5"];

    /// <summary>The attention-free layers: ours only (the PyTorch peer has no such layers, so no --vs-torch
    /// figures); not in the default sweep.</summary>
    public static readonly string[] Mixers = ["fnet", "sparse-mixer"];

    /// <summary>Every layer `layers --layer` accepts.</summary>
    public static readonly string[] Known = [.. All, .. Mixers];

    /// <summary>True when the PyTorch peer has the layer.</summary>
    public static bool HasPeer(string layer) => All.Contains(layer);

    /// <summary>
    /// One layer of the peer's shape (../shared/peers/torch-layers): d 512, 8 heads × 64, gated-GELU d_ff 2048,
    /// local radius 127, TGlobal blocks of 16; CoLT5 with 8 light + 8 heavy heads, light FF 1024, heavy FF 8192,
    /// m = q = n/16 and v = n/8 routed tokens, router ε 1 and 50 iterations. FNet: Fourier mixing and the dense
    /// d_ff 2048 feed-forward. Sparse Mixer: its lower-middle layer kind, linear mixing with mixing_length
    /// <paramref name="n"/> and an experts-choose MoE of 16 experts of d_ff 2048 at capacity factor 1
    /// (C = n/16).
    /// </summary>
    public static ModelConfig Config(string layer, int n) => new ModelConfig
    {
        VocabSize = 384,
        DModel = 512,
        DKv = 64,
        DFf = 2048,
        NumHeads = 8,
        NumLayers = 1,
        NumDecoderLayers = 1,
        LocalRadius = 127,
        GlobalBlockSize = 16,
        LightHeads = 8,
        HeavyHeads = 8,
        DFfLight = 1024,
        DFfHeavy = 8192,
        RoutedFfTokens = 1.0 / 16,
        RoutedQTokens = 1.0 / 16,
        RoutedKvTokens = 1.0 / 8,
        NumExperts = 16,
        ExpertCapacityFactor = 1.0,
        AttentionLayers = 0,
        MoeLayers = 1,
        MixingLength = n,
    }.WithEncoder(layer);

    /// <summary>Memory our current implementation needs for a case, in GiB (a guard against out-of-memory kills): linear
    /// in n with the fused attention; with <c>COLT5_ATTENTION=composed</c> full attention holds (H, n, n) bias, logits
    /// and probabilities, twice that with gradients.</summary>
    public static double EstimateGiB(string layer, int n, bool backward)
    {
        const double baseGiB = 1.0;
        // Sparse Mixer's (n, n) sequence kernel, with its gradient and the batched product's (1, n, n) partial
        if (layer == "sparse-mixer")
            return baseGiB + n * (double)n * 4 * (backward ? 4 : 1) / (1 << 30) + n * 512.0 * 4 * 120 / (1 << 30);
        if (layer != "t5" || AttentionCore.PreferFused)
            return baseGiB + n * 512.0 * 4 * (backward ? 120 : 40) / (1 << 30);
        var square = 8.0 * n * n * 4 / (1 << 30);
        return baseGiB + square * (backward ? 6 : 3);
    }
}

/// <summary>The child-process side of a layer case.</summary>
public static class LayerCase
{
    private const int CheckLength = 512;

    public static LayerResult Run(string layer, int n, string mode, int threads, Device device)
    {
        CpuBackend.Threads = threads;
        var backward = mode == "fwdbwd";
        var check = Check(layer, backward, device);
        Harness.ResetPeakRss();                        // the check's float64 copy is not part of the case
        var config = LayerKinds.Config(layer, n);
        using var host = new ParameterStore(DType.Float32, Device.Cpu, new Generator(1));
        Build(host, config);
        using var store = Checks.Copy(host, DType.Float32, device);
        var (module, tables) = Build(store, config);
        using var x = Tensor.RandN(new Shape(1, n, config.DModel), new Generator(2), device: device);
        using var upstream = Tensor.RandN(new Shape(1, n, config.DModel), new Generator(3), device: device);
        var mask = Enumerable.Repeat(true, n).ToArray();
        var backend = BackendRegistry.Get(device);
        var gpu = backend as GpuBackend;
        Action step = backward
            ? () => ForwardBackward(module, tables, config, store, x, upstream, mask)
            : () => ForwardOnly(module, tables, config, x, mask);
        Action timed = () =>
        {
            step();
            backend.Synchronize();                     // GPU work is asynchronous: the call ends when it is done
        };
        timed();                                       // first call: kernel builds and pool growth
        gpu?.ResetPeakBytes();
        var (timing, _) = Harness.Measure(timed, minRuns: 5, minSeconds: 2, warmup: 1, maxRuns: 50);
        return new LayerResult
        {
            Device = device.ToString(),
            DevicePeakMb = gpu is null ? null : gpu.PeakBytes / (1024.0 * 1024.0),
            Name = layer,
            N = n,
            Mode = mode,
            Threads = threads,
            MedianMs = timing.MedianMs,
            MinMs = timing.MinMs,
            MaxMs = timing.MaxMs,
            Runs = timing.Runs,
            PeakRssMb = Harness.PeakRssMb(),
            AllocBytesPerCall = timing.AllocBytesPerCall,
            PageFaultsPerCall = timing.PageFaultsPerCall,
            Check = check,
        };
    }

    private static (EncoderLayer Layer, EncoderBiasTables Tables) Build(ParameterStore store, ModelConfig config)
    {
        var block = store.Root("encoder.block.0");
        var tables = Encoder.CreateBiasTables(block.Sub("layer").Sub(0), config);
        return (new EncoderLayer(block, config, new Dropout(0, new Generator(0))), tables);
    }

    private static void ForwardOnly(EncoderLayer layer, EncoderBiasTables tables, ModelConfig config, Tensor x,
        bool[] mask)
    {
        using var scope = DisposeScope.Enter();
        using var noGrad = Tensor.NoGrad();
        layer.Eval();
        using var context = EncoderContext.Build(config, mask, 1, x.Shape[1], tables, x.DType, x.Device);
        layer.Forward(x, context);
    }

    private static void ForwardBackward(EncoderLayer layer, EncoderBiasTables tables, ModelConfig config,
        ParameterStore store, Tensor x, Tensor upstream, bool[] mask)
    {
        using var scope = DisposeScope.Enter();
        layer.Train();
        store.ZeroGrad();
        var input = x.Detach();
        input.RequiresGrad = true;
        using var context = EncoderContext.Build(config, mask, 1, x.Shape[1], tables, x.DType, x.Device);
        layer.Forward(input, context).Backward(upstream);
    }

    // The same layer in float32 on the device and float64 on the CPU (identical weights) on a 512-token input: the
    // output, and for fwdbwd the input gradient and every parameter gradient, relative to each tensor's largest
    // magnitude.
    private static string Check(string layer, bool backward, Device device)
    {
        var config = LayerKinds.Config(layer, CheckLength);
        using var host = new ParameterStore(DType.Float32, Device.Cpu, new Generator(1));
        Build(host, config);
        using var store32 = Checks.Copy(host, DType.Float32, device);
        var (layer32, tables32) = Build(store32, config);
        using var store64 = Checks.Float64Copy(host);
        var (layer64, tables64) = Build(store64, config);
        using var x32 = Tensor.RandN(new Shape(1, CheckLength, config.DModel), new Generator(2));
        using var up32 = Tensor.RandN(new Shape(1, CheckLength, config.DModel), new Generator(3));
        var mask = Enumerable.Repeat(true, CheckLength).ToArray();

        double worst = 0;
        var got = Once(layer32, tables32, store32, x32, up32);
        var want = Once(layer64, tables64, store64, x32, up32);
        for (var i = 0; i < want.Length; i++)
            worst = Math.Max(worst, Checks.RelativeToMax(got[i], want[i]));
        return worst <= 1e-4 ? $"ok rel={worst:E1}" : $"FAIL rel={worst:E1}";

        double[][] Once(EncoderLayer module, EncoderBiasTables tables, ParameterStore store, Tensor x, Tensor up)
        {
            using var scope = DisposeScope.Enter();
            var typed = x.DType == store.DType ? x.Detach() : x.To(store.DType);
            var input = typed.To(store.Device);
            input.RequiresGrad = backward;
            using var context = EncoderContext.Build(config, mask, 1, CheckLength, tables, store.DType, store.Device);
            if (!backward)
            {
                using var noGrad = Tensor.NoGrad();
                module.Eval();
                return [module.Forward(input, context).ToDoubleArray()];
            }
            module.Train();
            store.ZeroGrad();
            var y = module.Forward(input, context);
            y.Backward(up.To(store.DType).To(store.Device));
            return [y.ToDoubleArray(), input.Grad!.ToDoubleArray(),
                .. store.Parameters.Where(p => p.Tensor.Grad is not null).Select(p => p.Tensor.Grad!.ToDoubleArray())];
        }
    }
}
