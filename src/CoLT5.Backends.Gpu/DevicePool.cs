// A caching device allocator: blocks are rounded up to size classes and kept on free lists when released, so a
// training step reuses memory instead of calling the driver (allocation and free are slow and synchronising).
using System;
using System.Collections.Generic;
using System.Threading;
using CoLT5.Backends.Gpu.Runtime;

namespace CoLT5.Backends.Gpu;

/// <summary>Size-class free lists over one runtime's memory, with live/cached byte counters.</summary>
internal sealed class DevicePool : IDisposable
{
    private readonly IGpuRuntime runtime;
    private readonly Lock gate = new();
    private readonly Dictionary<long, Stack<nint>> free = [];
    private long liveBlocks, liveBytes, cachedBytes, leakedBlocks, peakBytes;

    public DevicePool(IGpuRuntime runtime) => this.runtime = runtime;

    /// <summary>Blocks handed out and not yet returned.</summary>
    public long LiveBlocks => Interlocked.Read(ref liveBlocks);

    /// <summary>Bytes handed out and not yet returned.</summary>
    public long LiveBytes => Interlocked.Read(ref liveBytes);

    /// <summary>The most bytes live at once since the last <see cref="ResetPeak"/> (the device-memory high-water
    /// mark of a workload).</summary>
    public long PeakBytes => Interlocked.Read(ref peakBytes);

    /// <summary>Starts a new high-water mark at the bytes live now.</summary>
    public void ResetPeak()
    {
        lock (gate)
            peakBytes = liveBytes;
    }

    /// <summary>Bytes kept on the free lists.</summary>
    public long CachedBytes => Interlocked.Read(ref cachedBytes);

    /// <summary>Blocks whose owner was collected without being disposed (their memory stays with the driver until
    /// the backend is disposed).</summary>
    public long LeakedBlocks => Interlocked.Read(ref leakedBlocks);

    /// <summary>The size class of a request: 256 bytes, then powers of two up to 1 MiB, then multiples of 1 MiB
    /// rounded to 1/8 of the next power of two.</summary>
    public static long SizeClass(long bytes)
    {
        if (bytes <= 256)
            return 256;
        if (bytes <= 1 << 20)
            return 1L << (64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)(bytes - 1)));
        var top = 1L << (63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)bytes));
        var step = Math.Max(1L << 20, top / 8);
        return (bytes + step - 1) / step * step;
    }

    /// <summary>A block of at least <paramref name="bytes"/>; its capacity comes back in <paramref name="capacity"/>.</summary>
    public nint Rent(long bytes, out long capacity)
    {
        capacity = SizeClass(bytes);
        lock (gate)
        {
            if (free.TryGetValue(capacity, out var stack) && stack.Count > 0)
            {
                cachedBytes -= capacity;
                liveBlocks++;
                liveBytes += capacity;
                peakBytes = Math.Max(peakBytes, liveBytes);
                return stack.Pop();
            }
        }
        nint block;
        try
        {
            block = runtime.Allocate(capacity);
        }
        catch (GpuOutOfMemoryException)
        {
            Trim();                                         // give the cached blocks back and try once more
            block = runtime.Allocate(capacity);
        }
        lock (gate)
        {
            liveBlocks++;
            liveBytes += capacity;
            peakBytes = Math.Max(peakBytes, liveBytes);
        }
        return block;
    }

    /// <summary>Takes a block back onto its free list.</summary>
    public void Return(nint block, long capacity)
    {
        lock (gate)
        {
            if (!free.TryGetValue(capacity, out var stack))
                free[capacity] = stack = new Stack<nint>();
            stack.Push(block);
            liveBlocks--;
            liveBytes -= capacity;
            cachedBytes += capacity;
        }
    }

    /// <summary>Accounts for a block whose owner was finalized without Dispose.</summary>
    public void Leaked(long capacity)
    {
        lock (gate)
        {
            leakedBlocks++;
            liveBlocks--;
            liveBytes -= capacity;
        }
    }

    /// <summary>Frees every cached block.</summary>
    public void Trim()
    {
        lock (gate)
        {
            foreach (var stack in free.Values)
            {
                while (stack.Count > 0)
                    runtime.Free(stack.Pop());
            }
            cachedBytes = 0;
        }
    }

    public void Dispose() => Trim();
}
