// The fused attention kernel alone at the model's shapes (8 heads × 64): full attention (T5), the local band
// (LongT5 / CoLT5 light, r = 127) and routed heavy attention (keys at scattered positions), forward and forward +
// backward. Each shape is first checked against the composed reference on a 512-query version of itself; GFLOP/s
// counts the useful work (readable query-key pairs × head dim: 4 per pair forward, 10 more backward, where the
// tiles are recomputed), and the roofline is the FMA peak (the tiles are compute-bound: 64 flops per byte loaded).
using System;
using System.Collections.Generic;
using System.Linq;
using CoLT5.Backends.Cpu;
using CoLT5.Nn.Functional;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;

namespace CoLT5.Perf.Cases;

public static class AttentionKernelCase
{
    private const int Heads = 8, HeadDim = 64, Radius = 127, MaxDistance = 128, Buckets = 32;

    public static List<CaseResult> Run(int threads, bool quick, double peak)
    {
        CpuBackend.Threads = threads;
        var n = quick ? 2048 : 16384;
        var results = new List<CaseResult>();
        foreach (var kind in new[] { "full", "local", "routed" })
        {
            var length = kind == "full" ? n / 4 : n;                  // full attention at 4096 (1024 quick)
            foreach (var backward in new[] { false, true })
                results.Add(Measure(kind, length, backward, threads, peak));
        }
        return results;
    }

    private static CaseResult Measure(string kind, int n, bool backward, int threads, double peak)
    {
        using var scope = DisposeScope.Enter();                      // the problem's tensors end with the case
        var check = Check(kind);
        var problem = Problem.Build(kind, n, seed: 1, backward);
        var pairs = problem.ReadablePairs * (double)Heads;
        var flops = pairs * HeadDim * (backward ? 14 : 4);
        var (timing, _) = Harness.Measure(() =>
        {
            using var scope = DisposeScope.Enter();
            var y = FusedAttention.Forward(problem.Q, problem.Set);
            if (backward)
            {
                y.Sum().Backward();
                problem.ClearGrads();
            }
        }, minRuns: 5, minSeconds: 1);
        var gflops = flops / (timing.MedianMs / 1e3) / 1e9;
        var name = $"attention {kind} {(backward ? "fwd+bwd" : "fwd")}";
        var shape = $"Tq {problem.Q.Shape[2]}, Tk {problem.Set.Keys.Shape[2]}, {Heads}×{HeadDim}";
        return CaseResult.Timed(name, shape, threads, timing, check) with
        {
            GFlops = gflops,
            PercentOfPeak = 100 * gflops / peak,
        };
    }

    // The fused kernel against the composed reference on a 512-query version of the same shape.
    private static string Check(string kind)
    {
        using var scope = DisposeScope.Enter();
        var p = Problem.Build(kind, 512, seed: 2, backward: false);
        using var got = FusedAttention.Forward(p.Q, p.Set);
        using var want = FusedAttention.Composed(p.Q, p.Set);
        var g = got.ToDoubleArray();
        var w = want.ToDoubleArray();
        var worst = g.Zip(w, (a, b) => Math.Abs(a - b)).Max();
        var rel = worst / Math.Max(w.Max(Math.Abs), 1e-30);
        return rel <= 1e-4 ? $"ok rel={rel:E1}" : $"FAIL rel={rel:E2}";
    }

    /// <summary>Queries and one key set of a case; routed: q = n/16 queries and v = n/8 keys at sorted random
    /// positions of an n-token sequence.</summary>
    private sealed class Problem
    {
        public required Tensor Q { get; init; }
        public required AttentionKeySet Set { get; init; }
        public required double ReadablePairs { get; init; }

        public void ClearGrads()
        {
            Q.Grad = null;
            Set.Keys.Grad = null;
            Set.Values.Grad = null;
            Set.Bias!.Table.Grad = null;
        }

        public static Problem Build(string kind, int n, ulong seed, bool backward)
        {
            var g = new Generator(seed);
            int tq = kind == "routed" ? n / 16 : n, tk = kind == "routed" ? n / 8 : n;
            Tensor Leaf(params int[] shape)
            {
                var t = Tensor.RandN(new Shape(shape), g, 0, 0.5);
                t.RequiresGrad = backward;
                return t;
            }
            var q = Leaf(1, Heads, tq, HeadDim);
            var k = Leaf(1, Heads, tk, HeadDim);
            var v = Leaf(1, Heads, tk, HeadDim);
            var table = Leaf(Buckets, Heads);
            var map = Enumerable.Range(-MaxDistance, 2 * MaxDistance + 1)
                .Select(o => RelativePosition.Bucket(o, true, Buckets, MaxDistance)).ToArray();
            var bias = new BucketedBias(table, Tensor.FromArray<int>(map, new Shape(map.Length)), -MaxDistance);
            var set = new AttentionKeySet(k, v) { Bias = bias };
            double pairs = (double)tq * tk;
            if (kind == "local")
            {
                set = set with { Window = Radius };
                pairs = Enumerable.Range(0, n).Sum(i => (double)(Math.Min(n - 1, i + Radius) - Math.Max(0, i - Radius) + 1));
            }
            else if (kind == "routed")
            {
                var rng = new Random((int)seed);
                Tensor Positions(int count) => Tensor.FromArray<int>(
                    Enumerable.Range(0, n).OrderBy(_ => rng.Next()).Take(count).Order().ToArray(), new Shape(1, count));
                set = set with { KeyPositions = Positions(tk), QueryPositions = Positions(tq) };
            }
            return new Problem { Q = q, Set = set, ReadablePairs = pairs };
        }
    }
}
