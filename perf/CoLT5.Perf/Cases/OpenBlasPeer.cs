// The OpenBLAS sgemm peer: runs ../shared/peers/sgemm/run.sh (which unsets OPENBLAS_CORETYPE so OpenBLAS uses its
// best kernel) and parses one line per shape.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text.RegularExpressions;

namespace CoLT5.Perf.Cases;

public static partial class OpenBlasPeer
{
    /// <summary>The peer script, or null when the shared peers folder is absent.</summary>
    public static string? Script()
    {
        var root = Environment.GetEnvironmentVariable("COLT5_PEERS")
            ?? Path.Combine(Program.RepositoryRoot, "..", "shared", "peers");
        var path = Path.GetFullPath(Path.Combine(root, "sgemm", "run.sh"));
        return File.Exists(path) ? path : null;
    }

    /// <summary>(M, N, K) → (median ms, median GFLOP/s), or an empty map when the peer cannot run.</summary>
    public static Dictionary<(int M, int N, int K), (double MedianMs, double GFlops)> Run(int threads, int repeats,
        out string info)
    {
        var result = new Dictionary<(int, int, int), (double, double)>();
        var script = Script();
        if (script is null)
        {
            info = "peer harness not found";
            return result;
        }
        var start = new ProcessStartInfo("bash", [script, threads.ToString(CultureInfo.InvariantCulture),
            repeats.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        info = "";
        foreach (var line in output.Split('\n'))
        {
            if (line.StartsWith("# OpenBLAS", StringComparison.Ordinal))
                info = line.TrimStart('#', ' ');
            var m = Row().Match(line);
            if (!m.Success)
                continue;
            int Int(int g) => int.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture);
            double Dbl(int g) => double.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture);
            result[(Int(1), Int(2), Int(3))] = (Dbl(4), Dbl(5));
        }
        if (result.Count == 0)
            info = $"peer produced no results (exit {process.ExitCode}): {error.Trim()}";
        return result;
    }

    [GeneratedRegex(@"M=\s*(\d+)\s+N=\s*(\d+)\s+K=\s*(\d+).*median_ms=\s*([\d.]+).*GFLOPs_median=\s*([\d.]+)")]
    private static partial Regex Row();
}
