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
        ArgumentNullException.ThrowIfNull(body);
        ForRanges(RangeCount(count, costPerItem), count, (_, start, end) => body(start, end));
    }

    /// <summary>
    /// The number of ranges <see cref="For"/> and <see cref="ForRanges"/> split [0, <paramref name="count"/>) into
    /// (0 when count is 0). It depends only on the arguments and <see cref="MaxThreads"/>, so a kernel that keeps one
    /// partial result per range and combines them in range order is deterministic.
    /// </summary>
    public static int RangeCount(long count, long costPerItem)
    {
        if (count <= 0)
            return 0;
        var work = count * Math.Max(1, costPerItem);
        var ranges = (int)Math.Min(Math.Min(count, MaxThreads * 4L), Math.Max(1, work / MinWorkPerRange));
        return MaxThreads == 1 ? 1 : Math.Max(1, ranges);
    }

    /// <summary>
    /// Runs <paramref name="body"/>(range, start, end) for each of <paramref name="ranges"/> contiguous ranges of
    /// [0, <paramref name="count"/>); range r covers [count·r/ranges, count·(r+1)/ranges).
    /// </summary>
    public static void ForRanges(int ranges, long count, Action<int, long, long> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (count <= 0 || ranges <= 0)
            return;
        if (ranges == 1)
        {
            body(0, 0, count);
            return;
        }
        var options = new ParallelOptions { MaxDegreeOfParallelism = MaxThreads };
        Parallel.For(0, ranges, options, r =>
        {
            var start = count * r / ranges;
            var end = count * (r + 1) / ranges;
            if (end > start)
                body(r, start, end);
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
