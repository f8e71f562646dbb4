// Result records, the aligned console table, and the JSON file other tools read (one record per case).
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CoLT5.Perf;

/// <summary>One measured case; null fields are omitted from JSON.</summary>
public sealed record CaseResult
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("shape")] public required string Shape { get; init; }
    [JsonPropertyName("threads")] public int Threads { get; init; }
    [JsonPropertyName("median_ms")] public double MedianMs { get; init; }
    [JsonPropertyName("min_ms")] public double MinMs { get; init; }
    [JsonPropertyName("max_ms")] public double MaxMs { get; init; }
    [JsonPropertyName("runs")] public int Runs { get; init; }
    [JsonPropertyName("gflops")] public double? GFlops { get; init; }
    [JsonPropertyName("gbps")] public double? GBps { get; init; }
    [JsonPropertyName("pct_peak")] public double? PercentOfPeak { get; init; }
    [JsonPropertyName("peer")] public string? Peer { get; init; }
    [JsonPropertyName("peer_gflops")] public double? PeerGFlops { get; init; }
    [JsonPropertyName("peer_median_ms")] public double? PeerMedianMs { get; init; }
    [JsonPropertyName("ratio")] public double? Ratio { get; init; }
    [JsonPropertyName("alloc_bytes_per_call")] public double AllocBytesPerCall { get; init; }
    [JsonPropertyName("page_faults_per_call")] public double PageFaultsPerCall { get; init; }
    [JsonPropertyName("peak_rss_mb")] public double PeakRssMb { get; init; }
    [JsonPropertyName("check")] public required string Check { get; init; }

    /// <summary>A record from a timing, with the process's current peak RSS.</summary>
    public static CaseResult Timed(string name, string shape, int threads, Timing timing, string check) => new()
    {
        Name = name,
        Shape = shape,
        Threads = threads,
        MedianMs = timing.MedianMs,
        MinMs = timing.MinMs,
        MaxMs = timing.MaxMs,
        Runs = timing.Runs,
        AllocBytesPerCall = timing.AllocBytesPerCall,
        PageFaultsPerCall = timing.PageFaultsPerCall,
        PeakRssMb = Harness.PeakRssMb(),
        Check = check,
    };
}

public static class Report
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static void Write(IReadOnlyList<CaseResult> results, string? jsonPath)
    {
        System.Console.WriteLine();
        System.Console.WriteLine($"{"case",-24} {"shape",-22} {"thr",3} {"median ms",10} {"min",8} {"GFLOP/s",8} " +
            $"{"GB/s",6} {"%peak",6} {"peer",8} {"ratio",6} {"alloc B",8} {"faults",7}  check");
        foreach (var r in results)
        {
            System.Console.WriteLine($"{r.Name,-24} {r.Shape,-22} {r.Threads,3} {r.MedianMs,10:F3} {r.MinMs,8:F3} " +
                $"{Fmt(r.GFlops),8} {Fmt(r.GBps),6} {Fmt(r.PercentOfPeak),6} {Fmt(r.PeerGFlops),8} " +
                $"{(r.Ratio is { } x ? x.ToString("F2") + "x" : "-"),6} {r.AllocBytesPerCall,8:F0} " +
                $"{r.PageFaultsPerCall,7:F1}  {r.Check}");
        }
        if (jsonPath is null)
            return;
        var dir = Path.GetDirectoryName(Path.GetFullPath(jsonPath))!;
        Directory.CreateDirectory(dir);
        var temp = jsonPath + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(results, Options));
        File.Move(temp, jsonPath, overwrite: true);
        System.Console.WriteLine($"wrote {jsonPath}");
    }

    private static string Fmt(double? v) => v is { } x ? x.ToString("F1") : "-";
}
