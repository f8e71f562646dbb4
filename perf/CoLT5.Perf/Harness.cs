// Timing harness: warm-up, repeated runs (at least five and about a second of work), median/min/max, and the
// per-call cost in GC allocations and page faults; plus peak RSS of the process.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using CoLT5.Backends.Cpu.Memory;

namespace CoLT5.Perf;

/// <summary>Measured timings of one case.</summary>
public sealed record Timing(double MedianMs, double MinMs, double MaxMs, int Runs, double AllocBytesPerCall,
    double PageFaultsPerCall)
{
    public static Timing Merge(Timing a, IReadOnlyList<double> samplesA, IReadOnlyList<double> samplesB) =>
        a with
        {
            MedianMs = Median([.. samplesA, .. samplesB]),
            MinMs = Math.Min(samplesA.Min(), samplesB.Min()),
            MaxMs = Math.Max(samplesA.Max(), samplesB.Max()),
            Runs = samplesA.Count + samplesB.Count
        };

    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
            : 0.5 * (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);
    }
}

public static class Harness
{
    /// <summary>Runs <paramref name="action"/> after warm-up until both <paramref name="minRuns"/> runs and
    /// <paramref name="minSeconds"/> of timed work are done; returns the timing and the raw samples (ms).</summary>
    public static (Timing Timing, List<double> Samples) Measure(Action action, int minRuns = 5, double minSeconds = 1,
        int warmup = 2, int maxRuns = 200)
    {
        for (var i = 0; i < warmup; i++)
            action();
        var samples = new List<double>(maxRuns);          // pre-sized: the harness itself must not allocate while timing
        var total = 0.0;
        var alloc0 = GC.GetTotalAllocatedBytes(precise: true);
        var faults0 = MinorPageFaults();
        while (samples.Count < maxRuns && (samples.Count < minRuns || total < minSeconds))
        {
            var t0 = Stopwatch.GetTimestamp();
            action();
            var ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            samples.Add(ms);
            total += ms / 1000;
        }
        var alloc = (GC.GetTotalAllocatedBytes(precise: true) - alloc0) / (double)samples.Count;
        var faults = (MinorPageFaults() - faults0) / (double)samples.Count;
        return (new Timing(Timing.Median(samples), samples.Min(), samples.Max(), samples.Count, alloc, faults), samples);
    }

    /// <summary>Minor page faults of this process so far (field 10 of /proc/self/stat; 0 where unavailable).</summary>
    public static long MinorPageFaults()
    {
        try
        {
            var stat = File.ReadAllText("/proc/self/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[7], System.Globalization.CultureInfo.InvariantCulture);   // minflt is field 10
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Releases the memory pool's retained blocks and the GC's garbage, then restarts the kernel's peak-RSS count
    /// (writing 5 to /proc/self/clear_refs), so <see cref="PeakRssMb"/> measures only what follows.
    /// </summary>
    public static void ResetPeakRss()
    {
        HostMemoryPool.Shared.Trim();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // not Linux, or not permitted: the peak then includes what came before
        }
    }

    /// <summary>Peak resident set size in MiB (VmHWM).</summary>
    public static double PeakRssMb()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                // "VmHWM:\t   1234 kB": a tab, then padding spaces only while the number is short
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return double.Parse(line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1],
                        System.Globalization.CultureInfo.InvariantCulture) / 1024;
            }
        }
        catch (IOException)
        {
        }
        return Environment.WorkingSet / 1048576.0;
    }

    /// <summary>Cores' worth of other load on the machine (1-minute load average minus our threads, ≥ 0).</summary>
    public static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }
}
