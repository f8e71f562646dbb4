// Chunked parallel loops for kernels: work is split into a few contiguous ranges per thread (never per element),
// and small jobs run inline so tiny tensors pay no scheduling cost.
using System;
using System.Threading.Tasks;

namespace CoLT5.Backends.Cpu.Threading;

/// <summary>Parallel-for over index ranges with a minimum grain.</summary>
internal static class CpuParallel
{
    private static int maxThreads = ReadThreads();

    /// <summary>Threads kernels may use (<c>COLT5_CPU_THREADS</c>, default: all cores).</summary>
    public static int MaxThreads
    {
        get => maxThreads;
        set => maxThreads = Math.Max(1, value);
    }

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over [0, <paramref name="count"/>) in contiguous ranges.
    /// <paramref name="costPerItem"/> estimates the work of one item (elements touched); ranges are at least
    /// <see cref="MinWorkPerRange"/> work, so small loops run on the calling thread.
    /// </summary>
    public static void For(long count, long costPerItem, Action<long, long> body)
    {
        if (count <= 0)
            return;
        var threads = MaxThreads;
        var work = count * Math.Max(1, costPerItem);
        var ranges = (int)Math.Min(Math.Min(count, threads * 4L), Math.Max(1, work / MinWorkPerRange));
        if (ranges <= 1 || threads == 1)
        {
            body(0, count);
            return;
        }
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads };
        Parallel.For(0, ranges, options, r =>
        {
            var start = count * r / ranges;
            var end = count * (r + 1) / ranges;
            if (end > start)
                body(start, end);
        });
    }

    /// <summary>Work (in elements) below which a range is not split further.</summary>
    public const long MinWorkPerRange = 1 << 15;

    private static int ReadThreads()
    {
        var text = Environment.GetEnvironmentVariable("COLT5_CPU_THREADS");
        return int.TryParse(text, out var n) && n > 0 ? n : Environment.ProcessorCount;
    }
}
