// SGEMM throughput: our packed GEMM (through the CPU backend's MatMul) at the shapes, checked against
// float64 dot products on sampled entries, then timed; OpenBLAS runs in the same invocation between two of our
// passes so both see the same machine state.
using System;
using System.Collections.Generic;
using CoLT5.Backends.Cpu;
using CoLT5.Tensors;
using CoLT5.Tensors.Random;

namespace CoLT5.Perf.Cases;

public static class GemmCase
{
    /// <summary>(name, M, N, K): square sizes and the CoLT5-Base feed-forward shapes.</summary>
    public static readonly (string Name, int M, int N, int K)[] Shapes =
    [
        ("square_512", 512, 512, 512),
        ("square_1024", 1024, 1024, 1024),
        ("square_2048", 2048, 2048, 2048),
        ("ff_up_8192x512x2048", 8192, 2048, 512),
        ("ff_down_8192x2048x512", 8192, 512, 2048),
    ];

    public static List<CaseResult> Run(int threads, bool withPeer, double peakPerCore, bool quick)
    {
        CpuBackend.Threads = threads;
        var shapes = quick ? Shapes[..2] : Shapes;
        var first = new Dictionary<string, (Timing T, List<double> S, string Check)>();
        foreach (var (name, m, n, k) in shapes)
            first[name] = Time(name, m, n, k, quick);

        var peer = new Dictionary<(int, int, int), (double MedianMs, double GFlops)>();
        var peerInfo = "not run";
        if (withPeer)
        {
            Console.WriteLine("running the OpenBLAS peer (../shared/peers/sgemm/run.sh) ...");
            peer = OpenBlasPeer.Run(threads, 5, out peerInfo);
            Console.WriteLine($"peer: {peerInfo}");
        }

        var results = new List<CaseResult>();
        foreach (var (name, m, n, k) in shapes)
        {
            // second pass after the peer: our figure is the median over both passes
            var (t2, s2, _) = Time(name, m, n, k, quick);
            var (t1, s1, check) = first[name];
            var t = Timing.Merge(t1, s1, s2);
            var flops = 2.0 * m * n * k;
            var gflops = flops / (t.MedianMs * 1e6);
            var hasPeer = peer.TryGetValue((m, n, k), out var p);
            results.Add(CaseResult.Timed("sgemm " + name, $"{m}x{k}·{k}x{n}", threads, t, check) with
            {
                AllocBytesPerCall = t1.AllocBytesPerCall,
                PageFaultsPerCall = t1.PageFaultsPerCall,
                GFlops = gflops,
                PercentOfPeak = 100 * gflops / (peakPerCore * threads),
                Peer = hasPeer ? "openblas" : null,
                PeerGFlops = hasPeer ? p.GFlops : null,
                PeerMedianMs = hasPeer ? p.MedianMs : null,
                Ratio = hasPeer ? gflops / p.GFlops : null,
            });
        }
        return results;
    }

    private static (Timing, List<double>, string) Time(string name, int m, int n, int k, bool quick)
    {
        var g = new Generator(11);
        using var a = Tensor.Rand(new Shape(m, k), g, -1, 1);
        using var b = Tensor.Rand(new Shape(k, n), g, -1, 1);
        using var c = Tensor.Empty(new Shape(m, n));
        var backend = a.Backend;
        void Product() => backend.MatMul(a.View, b.View, c.View, 1, 0);
        Product();
        var check = Check(a, b, c, k);
        var (timing, samples) = Harness.Measure(Product, minRuns: 5, minSeconds: quick ? 0.3 : 1.0);
        Console.WriteLine($"  {name,-24} {timing.MedianMs,9:F3} ms  {2.0 * m * n * k / (timing.MedianMs * 1e6),7:F1} GFLOP/s  {check}");
        return (timing, samples, check);
    }

    // Sampled entries against float64 dot products; float32 accumulation error grows like √k·ε.
    private static string Check(Tensor a, Tensor b, Tensor c, int k)
    {
        var av = a.ToArray<float>();
        var bv = b.ToArray<float>();
        var cv = c.ToArray<float>();
        int m = a.Shape[0], n = b.Shape[1];
        var rng = new Generator(5);
        var worst = 0.0;
        for (var s = 0; s < 256; s++)
        {
            int i = rng.NextInt(m), j = rng.NextInt(n);
            double exact = 0, magnitude = 0;
            for (var p = 0; p < k; p++)
            {
                exact += (double)av[i * k + p] * bv[p * n + j];
                magnitude += Math.Abs((double)av[i * k + p] * bv[p * n + j]);
            }
            worst = Math.Max(worst, Math.Abs(cv[i * n + j] - exact) / magnitude);
        }
        var bound = 4 * Math.Sqrt(k) * Math.Pow(2, -24);
        return worst <= bound ? $"ok rel={worst:E1}" : $"FAIL rel={worst:E1} > {bound:E1}";
    }
}
