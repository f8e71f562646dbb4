// The PyTorch peer of `layers --vs-torch`: ../shared/peers/torch-layers/bench.py under Debian's python3-torch (or
// the Python that COLT5_TORCH_PYTHON names, e.g. a GPU host's), one case per call right after ours, on the CPU in
// its fastest configuration on this machine (OPENBLAS_CORETYPE unset so OpenBLAS picks its AVX-512 kernel, passive
// OpenMP waiting, glibc malloc keeping freed memory mapped) or eagerly on the same CUDA device as ours.
using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace CoLT5.Perf.Cases;

public sealed class TorchLayersPeer
{
    private static readonly string Python =
        Environment.GetEnvironmentVariable("COLT5_TORCH_PYTHON") is { Length: > 0 } python ? python : "/usr/bin/python3";

    private readonly string bench;
    private readonly int threads;
    private readonly string device;

    private TorchLayersPeer(string bench, int threads, string device)
    {
        this.bench = bench;
        this.threads = threads;
        this.device = device;
    }

    /// <summary>The peer, or null with the reason when bench.py or Debian's PyTorch is missing.</summary>
    public static TorchLayersPeer? Find(int threads, Tensors.Device ours, out string why)
    {
        if (ours.Kind == Tensors.DeviceKind.OpenCl)
        {
            why = "PyTorch has no OpenCL device to compare with";
            return null;
        }
        var bench = Environment.GetEnvironmentVariable("COLT5_TORCH_LAYERS") is { Length: > 0 } dir
            ? Path.Combine(dir, "bench.py")
            : Path.GetFullPath(Path.Combine(Program.RepositoryRoot, "..", "shared", "peers", "torch-layers", "bench.py"));
        why = "";
        if (!File.Exists(bench))
        {
            why = $"{bench} not found (set COLT5_TORCH_LAYERS to the torch-layers folder)";
            return null;
        }
        if (Run("-c \"import torch\"", null) != 0)
        {
            why = $"{Python} cannot import torch (apt-get install -y python3-torch)";
            return null;
        }
        var device = ours.Kind == Tensors.DeviceKind.Cuda ? "cuda" : "cpu";
        if (device == "cuda" && Run("-c \"import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)\"", null) != 0)
        {
            why = $"{Python}'s torch sees no CUDA device";
            return null;
        }
        return new TorchLayersPeer(bench, threads, device);
    }

    /// <summary>Runs the same case in the peer and adds its time, peak RSS and the ratio (torch / ours).</summary>
    public LayerResult Compare(LayerResult ours, double maxGiB)
    {
        var json = Path.Combine(Path.GetTempPath(), $"colt5-torch-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        try
        {
            var args = string.Join(' ', $"\"{bench}\"", "--layers", ours.Name, "--ns",
                ours.N.ToString(CultureInfo.InvariantCulture), "--mode", ours.Mode, "--threads",
                threads.ToString(CultureInfo.InvariantCulture), "--reps", "5", "--warmup", "1", "--max-gib",
                maxGiB.ToString(CultureInfo.InvariantCulture), "--max-seconds", "120", "--alloc", "tuned",
                "--openblas-coretype", "auto", "--device", device, "--json", $"\"{json}\"");
            var exit = Run(args, Path.GetDirectoryName(bench));
            if (exit is null || !File.Exists(json))
                return ours with { Note = Join(ours.Note, $"torch: no result (exit {exit})") };
            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            var row = doc.RootElement.GetProperty("results").EnumerateArray().FirstOrDefault();
            if (row.ValueKind != JsonValueKind.Object || row.GetProperty("status").GetString() != "ok")
            {
                var reason = row.ValueKind == JsonValueKind.Object && row.TryGetProperty("reason", out var r)
                    ? r.GetString() : "no row";
                return ours with { Note = Join(ours.Note, $"torch: {reason}") };
            }
            var torchMs = row.GetProperty("median_ms").GetDouble();
            return ours with
            {
                TorchMedianMs = torchMs,
                TorchPeakRssMb = row.GetProperty("peak_rss_mib").GetDouble(),
                TorchDevicePeakMb = row.TryGetProperty("cuda_peak_mib", out var peak) ? peak.GetDouble() : null,
                Ratio = ours.MedianMs is { } mine ? torchMs / mine : null,
            };
        }
        finally
        {
            File.Delete(json);
        }
    }

    private static string Join(string? a, string b) => a is null ? b : a + "; " + b;

    // The child's environment is the peer's best configuration; bench.py sets the same for its own children.
    private static int? Run(string arguments, string? workingDirectory)
    {
        var start = new ProcessStartInfo(Python, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        start.Environment.Remove("OPENBLAS_CORETYPE");
        start.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        start.Environment["GLIBC_TUNABLES"] = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184";
        try
        {
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            stderr.Wait();
            return process.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
