// The perf runner's entry point: `gemm`, `gpu`, `kernels`, `step`, `router`, `fourier`, `decode`, `train-memory`,
// `peak`, `layers`, `encoders` or `all`, each checking results before timing (`router`, the fused vs composed soft
// top-k, `fourier`, the FFT vs the DFT products, `layers`, one encoder layer, and `encoders`, whole encoder stacks,
// run only when named).
// Usage: dotnet run -c Release --project perf/CoLT5.Perf -- gemm [--threads N] [--json FILE] [--no-peer] [--quick]
//        dotnet run -c Release --project perf/CoLT5.Perf -- layers [--layer …] [--n …] [--mode …] [--device D] [--vs-torch] [--json FILE]
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CoLT5.Backends.Cpu;
using CoLT5.Perf.Cases;

namespace CoLT5.Perf;

public static class Program
{
    /// <summary>The repository root (the folder holding CoLT5.Native.sln).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine("usage: CoLT5.Perf gemm|kernels|step|router|peak|all [--threads N] [--json FILE] " +
                "[--no-peer] [--quick]");
            Console.WriteLine("       CoLT5.Perf gpu [--device cuda|opencl[:N]] [--json FILE] [--quick]   (GEMM vs cuBLAS)");
            Console.WriteLine("       CoLT5.Perf decode [--n ENCODER_LENGTH] [--threads N] [--json FILE] [--quick]");
            Console.WriteLine("       CoLT5.Perf train-memory [--preset tiny|small] [--n INPUT_LENGTH] [--threads N] [--json FILE]");
            Console.WriteLine("       CoLT5.Perf encoders [--preset tiny|small|base] [--encoder colt5,longt5-tglobal,…] " +
                "[--n N[,N…]] [--json FILE] [--threads N] [--max-gib G]");
            Console.WriteLine("       CoLT5.Perf fourier [--n N[,N…]] [--d D] [--threads N] [--json FILE]   " +
                "(FFT vs DFT products)");
            Console.WriteLine("       CoLT5.Perf layers [--layer t5|local|tglobal|colt5|fnet|sparse-mixer[,…]] " +
                "[--n N[,N…]] " +
                "[--mode fwd|fwdbwd|both] [--device cpu|opencl|cuda] [--vs-torch] [--json FILE] [--svg PREFIX] [--threads N] " +
                "[--max-gib G]");
            return args.Length == 0 ? 1 : 0;
        }
        var command = args[0];
        var threads = Option(args, "--threads") is { } t ? int.Parse(t, System.Globalization.CultureInfo.InvariantCulture)
            : Environment.ProcessorCount;
        var json = Option(args, "--json");
        if (command == "encoders")
        {
            if (Option(args, "--_case") is null)
                Console.WriteLine($"CoLT5.Perf encoders: {CpuBackend.DescribeMachine()}, load {Harness.LoadAverage()}, " +
                    $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, .NET {Environment.Version}");
            return EncoderSweep.Run(args, threads);
        }
        if (command == "layers")
        {
            if (Option(args, "--_case") is { } single)
                return LayerSweep.RunChild(single, threads, Tensors.Device.Parse(Option(args, "--device") ?? "cpu"));
            Console.WriteLine($"CoLT5.Perf layers: {CpuBackend.DescribeMachine()}, " +
                $"load {Harness.LoadAverage()}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, .NET {Environment.Version}");
            return LayerSweep.Run(args, threads);
        }
        var withPeer = !args.Contains("--no-peer");
        var quick = args.Contains("--quick");
        if (command == "gpu")
        {
            var device = Tensors.Device.Parse(Option(args, "--device") ?? "cuda");
            Console.WriteLine($"CoLT5.Perf gpu: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, .NET {Environment.Version}");
            var gpuResults = new List<CaseResult>(GpuGemmCase.Run(device, quick));
            Report.Write(gpuResults, json);
            return gpuResults.Any(r => r.Check.StartsWith("FAIL", StringComparison.Ordinal)) ? 1 : 0;
        }

        Console.WriteLine($"CoLT5.Perf {command}: {CpuBackend.DescribeMachine()}, {Environment.ProcessorCount} cores, " +
            $"load {Harness.LoadAverage()}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, .NET {Environment.Version}");
        // "% of peak" uses the single-thread FMA peak × threads: a multi-thread measurement is easily depressed by
        // other load on a shared machine, the per-core figure is stable (≈ 224 GFLOP/s here).
        var peak1 = FmaPeak.Measure(1);
        var peakN = threads > 1 ? FmaPeak.Measure(threads) : peak1;
        Console.WriteLine($"measured FMA peak: {peak1:F1} GFLOP/s on 1 thread, {peakN:F1} on {threads} " +
            $"(percentages use {peak1:F1} × {threads})");

        var results = new List<CaseResult>();
        switch (command)
        {
            case "gemm":
                results.AddRange(GemmCase.Run(threads, withPeer, peak1, quick));
                break;
            case "kernels":
                results.AddRange(KernelCases.Run(threads, quick));
                results.AddRange(AttentionKernelCase.Run(threads, quick, peak1 * threads));
                break;
            case "step":
                results.Add(TrainingStepCase.Run(threads, quick));
                break;
            case "router":
                results.AddRange(RouterCase.Run(threads, quick));
                break;
            case "fourier":
                results.AddRange(FourierCase.Run(args, threads));
                break;
            case "decode":
                results.AddRange(DecodeCase.Run(args, threads, quick));
                break;
            case "train-memory":
                results.AddRange(TrainingMemoryCase.Run(args, threads));
                break;
            case "peak":
                break;
            case "all":
                results.AddRange(GemmCase.Run(threads, withPeer, peak1, quick));
                results.AddRange(KernelCases.Run(threads, quick));
                results.AddRange(AttentionKernelCase.Run(threads, quick, peak1 * threads));
                results.Add(TrainingStepCase.Run(threads, quick));
                break;
            default:
                Console.Error.WriteLine($"unknown command '{command}'");
                return 2;
        }
        Report.Write(results, json);
        return results.Any(r => r.Check.StartsWith("FAIL", StringComparison.Ordinal)) ? 1 : 0;
    }

    /// <summary>The value after <paramref name="name"/> in <paramref name="args"/>, or null.</summary>
    public static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CoLT5.Native.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? Directory.GetCurrentDirectory();
    }
}
