// The router's soft top-k, forward + backward: the fused kernel against the composed tensor ops (autograd through
// every iteration) at n = 4096 / 8192 / 16384 in both settings of decision D3, checked first against float64.
using System;
using System.Collections.Generic;
using CoLT5.Backends.Cpu;
using CoLT5.Backends.Cpu.Memory;
using CoLT5.Nn.Functional;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;

namespace CoLT5.Perf.Cases;

public static class RouterCase
{
    private sealed record Setting(string Name, double Eps, int Iterations, double? EpsInit, double EpsDecay);

    private static readonly Setting[] Settings =
    [
        new("e1_it50", 1.0, 50, null, 1.0),
        new("e003_it20", 0.03, 20, 4.0, 0.7),
    ];

    /// <summary>Rows = 8 (batch 4 × 2 routers), float32 (the model's dtype), k = (9/8)·n/8 per row.</summary>
    public static List<CaseResult> Run(int threads, bool quick)
    {
        CpuBackend.Threads = threads;
        const int rows = 8;
        var results = new List<CaseResult>();
        int[] lengths = quick ? [4096] : [4096, 8192, 16384];
        // JIT warm-up (tiered compilation) of both paths before anything is timed
        foreach (var set in Settings)
            Measure(set, rows, 1024, threads, quiet: true);
        foreach (var set in Settings)
        {
            foreach (var n in lengths)
                results.Add(Measure(set, rows, n, threads));
        }
        return results;
    }

    private static CaseResult Measure(Setting set, int rows, int n, int threads, bool quiet = false)
    {
        var k = 9.0 / 8 * (n / 8);
        using var s32 = Tensor.RandN(new Shape(rows, n), new Generator(7));
        using var upstream = Tensor.RandN(new Shape(rows, n), new Generator(8));
        var (check, fusedBytes, composedBytes) = Check(set, s32, upstream, k);

        void Step(bool fused)
        {
            using var scope = DisposeScope.Enter();
            var s = s32.Detach();
            s.RequiresGrad = true;
            var lambda = fused
                ? SoftTopK.Fused(s, null, k, set.Eps, set.Iterations, set.EpsInit, set.EpsDecay)
                : SoftTopK.Composed(s, null, k, set.Eps, set.Iterations, set.EpsInit, set.EpsDecay);
            lambda.Backward(upstream);
        }
        var (fusedTiming, _) = Harness.Measure(() => Step(true), minSeconds: 0.5);
        var (composedTiming, _) = Harness.Measure(() => Step(false), minSeconds: 0.5);
        var speedup = composedTiming.MedianMs / fusedTiming.MedianMs;
        var memory = $"graph {fusedBytes / 1048576.0:F2} vs {composedBytes / 1048576.0:F1} MiB";
        if (!quiet)
            Console.WriteLine($"  soft_top_k {set.Name,-10} n={n,-6} fused {fusedTiming.MedianMs,8:F2} ms  composed " +
            $"{composedTiming.MedianMs,8:F2} ms  ×{speedup,5:F1}  {memory}  {check}");
        return CaseResult.Timed($"soft_top_k {set.Name}", $"R={rows} n={n} f32 fwd+bwd", threads, fusedTiming,
            $"{check}, {memory}") with
        {
            Peer = "composed",
            PeerMedianMs = composedTiming.MedianMs,
            Ratio = speedup,
        };
    }

    // λ and dL/ds of the fused float32 path against the composed float64 path (relative to each tensor's max;
    // the ε = 0.03 iterations amplify float32 rounding, hence 1e-3), and the pool bytes each graph holds.
    private static (string Check, long FusedBytes, long ComposedBytes) Check(Setting set, Tensor s32, Tensor up,
        double k)
    {
        (double[] Lambda, double[] Grad, long Bytes) Once(DType dtype, bool fused)
        {
            var pool = HostMemoryPool.Shared;
            using var scope = DisposeScope.Enter();
            var s = s32.To(dtype);
            s.RequiresGrad = true;
            var before = pool.AllocatedBytes - pool.RetainedBytes;
            var lambda = fused
                ? SoftTopK.Fused(s, null, k, set.Eps, set.Iterations, set.EpsInit, set.EpsDecay)
                : SoftTopK.Composed(s, null, k, set.Eps, set.Iterations, set.EpsInit, set.EpsDecay);
            var bytes = pool.AllocatedBytes - pool.RetainedBytes - before;
            lambda.Backward(up.To(dtype));
            return (lambda.ToDoubleArray(), s.Grad!.ToDoubleArray(), bytes);
        }
        var want = Once(DType.Float64, fused: false);
        var fused = Once(DType.Float32, fused: true);
        var composed = Once(DType.Float32, fused: false);
        var rel = Math.Max(Checks.RelativeToMax(fused.Lambda, want.Lambda), Checks.RelativeToMax(fused.Grad, want.Grad));
        var check = rel <= 1e-3 ? $"ok rel={rel:E1}" : $"FAIL rel={rel:E1}";
        return (check, fused.Bytes, composed.Bytes);
    }
}
