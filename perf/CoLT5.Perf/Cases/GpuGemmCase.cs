// `gpu`: the GPU backend's SGEMM kernels (64×64 and 128×128 tiles) on square and model shapes, each checked against
// the CPU backend, timed with the device synchronised around every run, next to cuBLAS (FP32 and TF32) on the same
// buffers when the device is CUDA.
using System;
using System.Collections.Generic;
using CoLT5.Backends.Gpu;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;
using CoLT5.Tensors.Random;

namespace CoLT5.Perf.Cases;

public static class GpuGemmCase
{
    public static IEnumerable<CaseResult> Run(Device device, bool quick)
    {
        var backend = (GpuBackend)BackendRegistry.Get(device);
        Console.WriteLine($"device: {backend.Description}");
        var why = "not a CUDA device";
        using var cublas = device.Kind == DeviceKind.Cuda ? CublasPeer.TryCreate(out why) : null;
        if (device.Kind == DeviceKind.Cuda)
            Console.WriteLine(cublas is null ? $"cuBLAS peer: not available ({why})" : $"cuBLAS peer: {why}");
        (int M, int K, int N)[] shapes = quick
            ? [(512, 512, 512), (1024, 1024, 1024)]
            : [(1024, 1024, 1024), (2048, 2048, 2048), (4096, 4096, 4096), (8192, 512, 2048), (8192, 2048, 512),
                (16384, 512, 2048), (16384, 2048, 512), (512, 512, 512), (8, 512, 2048), (128, 512, 512)];
        foreach (var (m, k, n) in shapes)
        {
            using var a = Tensor.RandN(new Shape(m, k), new Generator(1), 0, 1, DType.Float32, device);
            using var b = Tensor.RandN(new Shape(k, n), new Generator(2), 0, 1, DType.Float32, device);
            using var c = Tensor.Empty(backend, new Shape(m, n), DType.Float32);
            var flops = 2.0 * m * n * k;
            var ours = new List<CaseResult>();
            foreach (var kernel in new[] { GpuGemmKernel.Tiled64, GpuGemmKernel.Wide128 })
            {
                backend.GemmKernel = kernel;
                var check = Check(a, b, c, backend);
                var (timing, _) = Harness.Measure(() =>
                {
                    backend.MatMul(a.View, b.View, c.View, 1, 0);
                    backend.Synchronize();
                }, minRuns: 5, minSeconds: 0.5, warmup: 2);
                ours.Add(CaseResult.Timed(kernel == GpuGemmKernel.Tiled64 ? "gpu gemm" : "gpu gemm wide",
                    $"{m}x{k}x{n}", 1, timing, check) with
                { GFlops = flops / timing.MedianMs / 1e6 });
            }
            backend.GemmKernel = GpuGemmKernel.Auto;
            if (cublas is null)
            {
                foreach (var result in ours)
                    yield return result;
                continue;
            }
            foreach (var tf32 in new[] { false, true })
            {
                cublas.UseTf32(tf32);
                var (peer, _) = Harness.Measure(() =>
                {
                    cublas.Sgemm(m, n, k, Handle(a), Handle(b), Handle(c));
                    cublas.Synchronize();
                }, minRuns: 5, minSeconds: 0.5, warmup: 2);
                foreach (var result in ours)
                {
                    yield return result with
                    {
                        Peer = tf32 ? "cublas-tf32" : "cublas-fp32",
                        PeerMedianMs = peer.MedianMs,
                        PeerGFlops = flops / peer.MedianMs / 1e6,
                        Ratio = peer.MedianMs / result.MedianMs,
                    };
                }
            }
        }
    }

    private static nint Handle(Tensor t) => ((GpuBuffer)t.View.Buffer).Handle;

    // Our product against the CPU backend's on the same inputs, relative to the largest magnitude.
    private static string Check(Tensor a, Tensor b, Tensor c, GpuBackend backend)
    {
        backend.MatMul(a.View, b.View, c.View, 1, 0);
        using var ha = a.To(Device.Cpu);
        using var hb = b.To(Device.Cpu);
        using var want = Tensor.MatMul(ha, hb);
        var got = c.ToDoubleArray();
        var w = want.ToDoubleArray();
        double worst = 0, scale = 0;
        for (var i = 0; i < w.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(got[i] - w[i]));
            scale = Math.Max(scale, Math.Abs(w[i]));
        }
        var rel = worst / Math.Max(scale, 1e-30);
        return rel <= 1e-4 ? $"ok rel={rel:E1}" : $"FAIL rel={rel:E1}";
    }
}
