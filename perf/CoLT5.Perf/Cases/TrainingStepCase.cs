// A small training step (embedding → linear → gated GELU → linear → RMSNorm → vocabulary projection →
// cross-entropy, backward, SGD update) to show what a step costs in time, GC allocations and page faults once the
// buffer pool is warm. Allocation bytes are small objects (tensor headers, graph nodes), never per element.
using System;
using CoLT5.Backends.Cpu;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;

namespace CoLT5.Perf.Cases;

public static class TrainingStepCase
{
    public static CaseResult Run(int threads, bool quick)
    {
        CpuBackend.Threads = threads;
        int tokens = quick ? 256 : 1024, d = 512, ff = 1024, vocab = 4096;
        var g = new Generator(1);
        Tensor Param(params int[] shape)
        {
            var p = Tensor.RandN(new Shape(shape), g, 0, 0.05);
            p.RequiresGrad = true;
            return p;
        }
        using var embed = Param(vocab, d);
        using var wi0 = Param(ff, d);
        using var wi1 = Param(ff, d);
        using var wo = Param(d, ff);
        using var norm = Param(d);
        using var head = Param(vocab, d);
        Tensor[] parameters = [embed, wi0, wi1, wo, norm, head];
        var ids = new int[tokens];
        var targets = new int[tokens];
        for (var i = 0; i < tokens; i++)
        {
            ids[i] = g.NextInt(vocab);
            targets[i] = (ids[i] * 7 + 3) % vocab;
        }
        using var idTensor = Tensor.FromArray<int>(ids, new Shape(tokens));
        using var targetTensor = Tensor.FromArray<int>(targets, new Shape(tokens));
        var losses = new System.Collections.Generic.List<double>();

        void Step()
        {
            using var scope = DisposeScope.Enter();
            var h = Tensor.Embedding(embed, idTensor);                               // (T, d)
            var gate = Tensor.MatMul(h, wi0, transposeB: true).GeluTanh();            // (T, ff)
            var up = Tensor.MatMul(h, wi1, transposeB: true);
            var y = h + Tensor.MatMul(gate * up, wo, transposeB: true);               // (T, d)
            var logits = Tensor.MatMul(y.RmsNorm(norm), head, transposeB: true);      // (T, V)
            var loss = Tensor.CrossEntropy(logits, targetTensor);
            loss.Backward();
            losses.Add(loss.Item());
            using (Tensor.NoGrad())
            {
                foreach (var p in parameters)
                {
                    p.AddInPlace(p.Grad!, -0.5);
                    p.Grad = null;
                }
            }
        }

        Step();
        var (timing, _) = Harness.Measure(Step, minRuns: quick ? 5 : 10, minSeconds: 1, warmup: 3);
        var check = losses[^1] < losses[0] ? $"ok loss {losses[0]:F3}→{losses[^1]:F3}" : "FAIL loss did not fall";
        var flops = 6.0 * tokens * (3.0 * d * ff + (double)d * vocab);   // forward 2·, backward 4·
        Console.WriteLine($"  {"training step",-24} {timing.MedianMs,9:F3} ms  {flops / (timing.MedianMs * 1e6),7:F1} GFLOP/s  " +
            $"{timing.AllocBytesPerCall,9:F0} B/step  {timing.PageFaultsPerCall,6:F1} faults/step  {check}");
        return CaseResult.Timed("training step", $"T={tokens} d={d} ff={ff} V={vocab}", threads, timing, check) with
        {
            GFlops = flops / (timing.MedianMs * 1e6),
        };
    }
}
