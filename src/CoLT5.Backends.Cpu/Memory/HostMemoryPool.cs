// A process-wide pool of 64-byte-aligned native blocks in size classes. Reusing blocks avoids the page-fault cost
// of fresh memory (about 10 µs per 4 KiB page on our machines); large blocks also ask Linux for huge pages.
using System;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Threading;

namespace CoLT5.Backends.Cpu.Memory;

/// <summary>
/// Size-classed free lists of aligned native memory. Requests round up to a class (eight classes per power of
/// two), so a freed block serves any later request of its class. Retained idle memory is capped
/// (<c>COLT5_POOL_MAX_MB</c>, default 4096); beyond the cap freed blocks go back to the OS.
/// </summary>
internal sealed unsafe partial class HostMemoryPool
{
    private const int Alignment = 64;
    private const long HugePageBytes = 2L << 20;

    private readonly ConcurrentDictionary<long, ConcurrentBag<nint>> free = new();
    private readonly long maxRetainedBytes;
    private long retainedBytes;
    private long liveBlocks;
    private long allocatedBytes;
    private long freshAllocations;

    public HostMemoryPool(long maxRetainedBytes) => this.maxRetainedBytes = maxRetainedBytes;

    /// <summary>The shared pool used by the CPU and reference backends.</summary>
    public static HostMemoryPool Shared { get; } = new(ReadCap());

    /// <summary>Blocks handed out and not yet returned.</summary>
    public long LiveBlocks => Interlocked.Read(ref liveBlocks);

    /// <summary>Bytes held idle in the free lists.</summary>
    public long RetainedBytes => Interlocked.Read(ref retainedBytes);

    /// <summary>Bytes currently obtained from the OS (live plus retained).</summary>
    public long AllocatedBytes => Interlocked.Read(ref allocatedBytes);

    /// <summary>How many requests could not be served from a free list.</summary>
    public long FreshAllocations => Interlocked.Read(ref freshAllocations);

    /// <summary>The class size a request of <paramref name="bytes"/> rounds up to.</summary>
    public static long ClassSize(long bytes)
    {
        if (bytes <= Alignment)
            return Alignment;
        var top = 63 - (int)long.LeadingZeroCount(bytes - 1);    // 2^top < bytes <= 2^(top+1)
        var step = Math.Max(Alignment, 1L << Math.Max(0, top - 3));  // 8 classes per octave
        return (bytes + step - 1) / step * step;
    }

    /// <summary>Returns a block of at least <paramref name="bytes"/> bytes (contents undefined).</summary>
    public nint Rent(long bytes, out long capacity)
    {
        capacity = ClassSize(bytes);
        Interlocked.Increment(ref liveBlocks);
        if (free.TryGetValue(capacity, out var bag) && bag.TryTake(out var block))
        {
            Interlocked.Add(ref retainedBytes, -capacity);
            return block;
        }
        Interlocked.Increment(ref freshAllocations);
        var large = capacity >= HugePageBytes;
        var pointer = (nint)NativeMemory.AlignedAlloc((nuint)capacity, large ? (nuint)HugePageBytes : Alignment);
        if (pointer == 0)
            throw new InsufficientMemoryException($"cannot allocate {capacity} bytes of host memory");
        if (large)
            HugePages.Advise(pointer, capacity);
        Interlocked.Add(ref allocatedBytes, capacity);
        GC.AddMemoryPressure(capacity);
        return pointer;
    }

    /// <summary>Takes a block back (or frees it when the pool is over its cap).</summary>
    public void Return(nint block, long capacity)
    {
        Interlocked.Decrement(ref liveBlocks);
        if (Interlocked.Add(ref retainedBytes, capacity) <= maxRetainedBytes)
        {
            free.GetOrAdd(capacity, _ => []).Add(block);
            return;
        }
        Interlocked.Add(ref retainedBytes, -capacity);
        Release(block, capacity);
    }

    /// <summary>Frees every idle block.</summary>
    public void Trim()
    {
        foreach (var (capacity, bag) in free)
        {
            while (bag.TryTake(out var block))
            {
                Interlocked.Add(ref retainedBytes, -capacity);
                Release(block, capacity);
            }
        }
    }

    private void Release(nint block, long capacity)
    {
        NativeMemory.AlignedFree((void*)block);
        Interlocked.Add(ref allocatedBytes, -capacity);
        GC.RemoveMemoryPressure(capacity);
    }

    private static long ReadCap()
    {
        var text = Environment.GetEnvironmentVariable("COLT5_POOL_MAX_MB");
        return long.TryParse(text, out var mb) && mb >= 0 ? mb << 20 : 4096L << 20;
    }

    private static partial class HugePages
    {
        private const int MadvHugePage = 14;

        public static void Advise(nint pointer, long bytes)
        {
            if (!OperatingSystem.IsLinux())
                return;
            try
            {
                _ = madvise(pointer, (nuint)bytes, MadvHugePage);   // advisory: failure just means 4 KiB pages
            }
            catch (DllNotFoundException)
            {
            }
            catch (EntryPointNotFoundException)
            {
            }
        }

        [LibraryImport("libc", EntryPoint = "madvise")]
        private static partial int madvise(nint address, nuint length, int advice);
    }
}
