// The `layers` command: every (layer, n, mode) case in its own child process (so each peak RSS is its own and an
// out-of-memory kill ends only that case), each followed by the same case of the PyTorch peer when --vs-torch.
// Usage: layers [--layer t5|local|tglobal|colt5|fnet|sparse-mixer[,…]] [--n N[,N…]] [--mode fwd|fwdbwd|both]
//        [--vs-torch]
//        [--json FILE] [--svg PREFIX] [--threads N] [--max-gib G]
//        layers --from-json FILE --svg PREFIX   (re-plots a saved run without measuring)
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CoLT5.Perf.Cases;

/// <summary>One `layers` record; the JSON names are a contract other tools read.</summary>
public sealed record LayerResult
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("n")] public int N { get; init; }
    [JsonPropertyName("mode")] public required string Mode { get; init; }
    [JsonPropertyName("threads")] public int Threads { get; init; }
    [JsonPropertyName("device")] public string? Device { get; init; }
    [JsonPropertyName("device_peak_mb")] public double? DevicePeakMb { get; init; }
    [JsonPropertyName("median_ms")] public double? MedianMs { get; init; }
    [JsonPropertyName("min_ms")] public double? MinMs { get; init; }
    [JsonPropertyName("max_ms")] public double? MaxMs { get; init; }
    [JsonPropertyName("runs")] public int Runs { get; init; }
    [JsonPropertyName("peak_rss_mb")] public double? PeakRssMb { get; init; }
    [JsonPropertyName("alloc_bytes_per_call")] public double? AllocBytesPerCall { get; init; }
    [JsonPropertyName("page_faults_per_call")] public double? PageFaultsPerCall { get; init; }
    [JsonPropertyName("torch_median_ms")] public double? TorchMedianMs { get; init; }
    [JsonPropertyName("torch_peak_rss_mb")] public double? TorchPeakRssMb { get; init; }
    [JsonPropertyName("torch_device_peak_mb")] public double? TorchDevicePeakMb { get; init; }
    [JsonPropertyName("ratio")] public double? Ratio { get; init; }
    [JsonPropertyName("check")] public required string Check { get; init; }
    [JsonPropertyName("note")] public string? Note { get; init; }
}

public static class LayerSweep
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The child entry: `layers --_case layer:n:mode --device D`; prints one result line.</summary>
    public static int RunChild(string spec, int threads, Tensors.Device device)
    {
        var parts = spec.Split(':');
        var result = LayerCase.Run(parts[0], int.Parse(parts[1], CultureInfo.InvariantCulture), parts[2], threads,
            device);
        ChildCase.Emit(result);
        return 0;
    }

    public static int Run(string[] args, int threads)
    {
        var layers = (Program.Option(args, "--layer") ?? string.Join(',', LayerKinds.All)).Split(',');
        var lengths = (Program.Option(args, "--n") ?? "4096,8192,16384").Split(',')
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var modeOption = Program.Option(args, "--mode") ?? "both";
        var json = Program.Option(args, "--json");
        var svg = Program.Option(args, "--svg");
        var vsTorch = args.Contains("--vs-torch");
        var device = Tensors.Device.Parse(Program.Option(args, "--device") ?? "cpu");
        var maxGiB = Program.Option(args, "--max-gib") is { } g ? double.Parse(g, CultureInfo.InvariantCulture) : 12;
        if (layers.FirstOrDefault(l => !LayerKinds.Known.Contains(l)) is { } unknown)
            return Usage($"unknown layer '{unknown}' (expected {string.Join(", ", LayerKinds.Known)})");
        if (modeOption is not ("fwd" or "fwdbwd" or "both"))
            return Usage($"unknown mode '{modeOption}' (expected fwd, fwdbwd or both)");
        if (lengths.Any(n => n < 1))
            return Usage("--n values must be positive");
        string[] modes = modeOption == "both" ? ["fwd", "fwdbwd"] : [modeOption];
        TorchLayersPeer? peer = null;
        if (vsTorch)
        {
            peer = TorchLayersPeer.Find(threads, device, out var why);
            if (peer is null)
                return Usage($"--vs-torch: {why}");
        }

        if (Program.Option(args, "--from-json") is { } saved)
        {
            var loaded = JsonSerializer.Deserialize<List<LayerResult>>(File.ReadAllText(saved)) ?? [];
            Plot(loaded, svg ?? Path.ChangeExtension(saved, null), [.. loaded.Select(r => r.Mode).Distinct()],
                loaded.FirstOrDefault()?.Threads ?? threads);
            return 0;
        }
        var results = new List<LayerResult>();
        foreach (var layer in layers)
        {
            foreach (var mode in modes)
            {
                foreach (var n in lengths)
                {
                    var ours = RunOurs(layer, n, mode, threads, maxGiB, device);
                    if (peer is not null && LayerKinds.HasPeer(layer))
                        ours = peer.Compare(ours, maxGiB);
                    results.Add(ours);
                    Console.WriteLine(Row(ours));
                    if (json is not null)
                        WriteJson(results, json);
                }
            }
        }
        Console.WriteLine();
        Console.WriteLine(Header(vsTorch));
        foreach (var r in results)
            Console.WriteLine(Row(r));
        if (json is not null)
            Console.WriteLine($"wrote {json}");
        if (svg is not null)
            Plot(results, svg, modes, threads);
        return results.Any(r => r.Check.StartsWith("FAIL", StringComparison.Ordinal)) ? 1 : 0;
    }

    // One chart per mode; the FLOP model uses the FMA peak measured now on `threads` threads.
    private static void Plot(List<LayerResult> results, string prefix, string[] modes, int threads)
    {
        var peak = FmaPeak.Measure(threads);
        foreach (var mode in modes)
        {
            var path = $"{prefix}-{mode}.svg";
            LayerPlots.Write(path, results.Where(r => r.Mode == mode).ToList(), mode, threads, peak);
            Console.WriteLine($"wrote {path} (FLOP model at the measured FMA peak, {peak:F0} GFLOP/s)");
        }
    }

    private static int Usage(string message)
    {
        Console.Error.WriteLine(message);
        return 2;
    }

    private static LayerResult RunOurs(string layer, int n, string mode, int threads, double maxGiB,
        Tensors.Device device)
    {
        var estimate = LayerKinds.EstimateGiB(layer, n, mode == "fwdbwd");
        if (estimate > maxGiB)
            return new LayerResult
            {
                Name = layer,
                N = n,
                Mode = mode,
                Threads = threads,
                Check = "skipped",
                Note = $"estimated {estimate:F1} GiB > --max-gib {maxGiB:G}",
            };
        var result = ChildCase.Run<LayerResult>(["layers", "--_case", $"{layer}:{n}:{mode}", "--threads",
            threads.ToString(CultureInfo.InvariantCulture), "--device", device.ToString()], out var failure);
        return result ?? new LayerResult
        {
            Name = layer,
            N = n,
            Mode = mode,
            Threads = threads,
            Check = "FAIL",
            Note = failure,
        };
    }

    private static void WriteJson(List<LayerResult> results, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(results, Json));
        File.Move(temp, path, overwrite: true);
    }

    private static string Header(bool vsTorch) =>
        $"{"layer",-8} {"n",6} {"mode",-7} {"median ms",10} {"min",9} {"max",9} {"RSS MiB",8} {"dev MiB",8} " +
        (vsTorch ? $"{"torch ms",10} {"torch RSS",9} {"ratio",7} " : "") + " check";

    private static string Row(LayerResult r) =>
        $"{r.Name,-8} {r.N,6} {r.Mode,-7} {F(r.MedianMs, 10)} {F(r.MinMs, 9)} {F(r.MaxMs, 9)} {F(r.PeakRssMb, 8, 0)} " +
        $"{F(r.DevicePeakMb, 8, 0)} " +
        (r.TorchMedianMs is not null || r.Ratio is not null || r.Note is not null
            ? $"{F(r.TorchMedianMs, 10)} {F(r.TorchPeakRssMb, 9, 0)} {(r.Ratio is { } x ? $"{x:F2}x" : "-"),7} "
            : "") +
        $" {r.Check}" + (r.Note is null ? "" : $" ({r.Note})");

    private static string F(double? v, int width, int decimals = 1) =>
        (v is { } x ? x.ToString("F" + decimals, CultureInfo.InvariantCulture) : "-").PadLeft(width);
}
