// Scratch blocks a kernel call rents from the shared host pool and returns, all at once, when it ends.
using System;
using System.Collections.Generic;

namespace CoLT5.Backends.Cpu.Memory;

/// <summary>Pool-backed scratch for one kernel call; disposing returns every block.</summary>
internal sealed unsafe class KernelArena : IDisposable
{
    private readonly List<(nint Block, long Capacity)> blocks = [];

    /// <summary>Uninitialised room for <paramref name="count"/> elements.</summary>
    public T* Rent<T>(long count) where T : unmanaged
    {
        var block = HostMemoryPool.Shared.Rent(Math.Max(1, count) * sizeof(T), out var capacity);
        blocks.Add((block, capacity));
        return (T*)block;
    }

    /// <summary>Returns every block to the pool.</summary>
    public void Dispose()
    {
        foreach (var (block, capacity) in blocks)
            HostMemoryPool.Shared.Return(block, capacity);
        blocks.Clear();
    }
}
