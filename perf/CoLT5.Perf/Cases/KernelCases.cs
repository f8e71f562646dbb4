// Bandwidth of the fused row kernels and elementwise ops at model sizes (GB/s of compulsory traffic), each
// checked against the scalar reference backend on the same data before timing.
using System;
using System.Collections.Generic;
using CoLT5.Backends.Cpu;
using CoLT5.Tensors;
using CoLT5.Tensors.Random;

namespace CoLT5.Perf.Cases;

public static class KernelCases
{
    public static List<CaseResult> Run(int threads, bool quick)
    {
        CpuBackend.Threads = threads;
        var rows = quick ? 1024 : 8192;
        var results = new List<CaseResult>();
        var g = new Generator(3);
        using var x = Tensor.RandN(new Shape(rows, 512), g);
        using var w = Tensor.RandN(new Shape(512), g);
        using var wide = Tensor.RandN(new Shape(rows, 2048), g);
        using var logits = Tensor.RandN(new Shape(rows / 8, 32128), g);
        var targets = new int[rows / 8];
        for (var i = 0; i < targets.Length; i++)
            targets[i] = g.NextInt(32128);
        using var t = Tensor.FromArray<int>(targets, new Shape(targets.Length));

        results.Add(Case("add", x, bytes: 3L * x.NumElements * 4, threads, () => x + x, v => v[0] + v[0], x));
        results.Add(Case("gelu_tanh", wide, 2L * wide.NumElements * 4, threads, () => wide.GeluTanh(),
            v => v[0].GeluTanh(), wide));
        results.Add(Case("softmax", wide, 2L * wide.NumElements * 4, threads, () => wide.Softmax(),
            v => v[0].Softmax(), wide));
        results.Add(Case("rms_norm", x, 2L * x.NumElements * 4, threads, () => x.RmsNorm(w),
            v => v[0].RmsNorm(v[1]), x, w));
        results.Add(Case("sum(axis 0)", wide, wide.NumElements * 4, threads, () => wide.Sum(0), v => v[0].Sum(0), wide));
        results.Add(Case("cross_entropy v=32128", logits, logits.NumElements * 4, threads,
            () => Tensor.CrossEntropy(logits, t), v => Tensor.CrossEntropy(v[0], v[1]), logits, t));
        return results;
    }

    private static CaseResult Case(string name, Tensor shapeOf, long bytes, int threads, Func<Tensor> run,
        Func<Tensor[], Tensor> reference, params Tensor[] inputs)
    {
        using (var ours = run())
        {
            var refInputs = Array.ConvertAll(inputs, i => i.To(Device.Reference));
            using var want = reference(refInputs);
            foreach (var r in refInputs)
                r.Dispose();
            var got = ours.ToDoubleArray();
            var exp = want.ToDoubleArray();
            var worst = 0.0;
            var scale = 0.0;
            for (var i = 0; i < exp.Length; i++)
            {
                worst = Math.Max(worst, Math.Abs(got[i] - exp[i]));
                scale = Math.Max(scale, Math.Abs(exp[i]));
            }
            var rel = worst / Math.Max(scale, 1e-30);
            var check = rel <= 1e-4 ? $"ok rel={rel:E1}" : $"FAIL rel={rel:E1}";
            var (timing, _) = Harness.Measure(() => run().Dispose(), minSeconds: 0.5);
            Console.WriteLine($"  {name,-24} {timing.MedianMs,9:F3} ms  {bytes / (timing.MedianMs * 1e6),7:F1} GB/s  {check}");
            return CaseResult.Timed(name, shapeOf.Shape.ToString(), threads, timing, check) with
            {
                GBps = bytes / (timing.MedianMs * 1e6),
            };
        }
    }
}
