// FNet's Fourier mixing on the CPU, forward (the backward is the same transform): the fused float64 FFT kernel
// against the composed DFT-matrix products (two GEMMs, 4·n·d·(n + d) FLOPs) in float32 at d = 512, each checked first
// against the float64 FFT.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CoLT5.Backends.Cpu;
using CoLT5.Nn.Functional;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;

namespace CoLT5.Perf.Cases;

public static class FourierCase
{
    /// <summary>`fourier [--n N[,N…]] [--d D]`: one row per length, batch 1.</summary>
    public static List<CaseResult> Run(string[] args, int threads)
    {
        CpuBackend.Threads = threads;
        var lengths = (Program.Option(args, "--n") ?? "256,1024,4096,8192").Split(',')
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var d = Program.Option(args, "--d") is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : 512;
        Measure(128, d, threads, quiet: true);                   // JIT warm-up of both paths
        return [.. lengths.Select(n => Measure(n, d, threads))];
    }

    private static CaseResult Measure(int n, int d, int threads, bool quiet = false)
    {
        using var x = Tensor.RandN(new Shape(1, n, d), new Generator(5));
        var scale = FourierMix.OrthoScale(n, d);
        var check = Check(x, scale);

        void Step(bool fused)
        {
            using var scope = DisposeScope.Enter();
            using var noGrad = Tensor.NoGrad();
            FourierMix.PreferFused = fused;
            FourierMix.Forward(x, scale);
        }
        var (fft, _) = Harness.Measure(() => Step(true), minSeconds: 0.5);
        var (composed, _) = Harness.Measure(() => Step(false), minRuns: 3, minSeconds: 0.5);
        FourierMix.PreferFused = true;
        FourierMix.ReleaseCachedMatrices();
        var flops = 4.0 * n * d * (n + d);
        if (!quiet)
            Console.WriteLine($"  fourier_mix n={n,-6} d={d} fft {fft.MedianMs,9:F2} ms  dft products " +
                $"{composed.MedianMs,9:F2} ms ({flops / composed.MedianMs / 1e6,6:F1} GFLOP/s)  " +
                $"×{composed.MedianMs / fft.MedianMs,6:F1}  {check}");
        return CaseResult.Timed("fourier_mix fft", $"1x{n}x{d} f32 fwd", threads, fft, check) with
        {
            Peer = "dft products",
            PeerMedianMs = composed.MedianMs,
            PeerGFlops = flops / composed.MedianMs / 1e6,
            Ratio = composed.MedianMs / fft.MedianMs,
        };
    }

    // Both float32 paths against the float64 FFT, relative to the largest output.
    private static string Check(Tensor x, double scale)
    {
        using var scope = DisposeScope.Enter();
        using var noGrad = Tensor.NoGrad();
        var want = FourierMix.Forward(x.To(DType.Float64), scale).ToDoubleArray();
        var fused = FourierMix.Forward(x, scale).ToDoubleArray();
        FourierMix.PreferFused = false;
        var composed = FourierMix.Forward(x, scale).ToDoubleArray();
        FourierMix.PreferFused = true;
        var worst = Math.Max(Checks.RelativeToMax(fused, want), Checks.RelativeToMax(composed, want));
        return worst <= 1e-4 ? $"ok rel={worst:E1}" : $"FAIL rel={worst:E1}";
    }
}
