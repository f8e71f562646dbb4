// Reusable 64-byte-aligned native packing buffers (packed A block, packed B block, edge scratch tile), rented from
// a small process-wide pool so steady-state GEMM calls allocate nothing and never re-touch fresh pages.
using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace CoLT5.Backends.Cpu.Gemm;

/// <summary>One thread's packing buffers; rent with <see cref="Rent"/>, give back with <see cref="Return"/>.</summary>
internal sealed unsafe class GemmWorkspace
{
    /// <summary>Bytes of the edge scratch tile: enough for any MR × NR tile (12 × 32 floats = 1.5 KiB).</summary>
    private const int ScratchBytes = 4096;

    private const int PoolCapacity = 32;
    private static readonly GemmWorkspace?[] Pool = new GemmWorkspace?[PoolCapacity];
    private static readonly Lock PoolLock = new();
    private static int _pooled;

    private void* _a;
    private nuint _aBytes;
    private void* _b;
    private nuint _bBytes;
    private readonly void* _scratch = NativeMemory.AlignedAlloc(ScratchBytes, 64);

    ~GemmWorkspace()
    {
        NativeMemory.AlignedFree(_a);
        NativeMemory.AlignedFree(_b);
        NativeMemory.AlignedFree(_scratch);
    }

    /// <summary>Takes a workspace from the pool (or makes one on first use).</summary>
    public static GemmWorkspace Rent()
    {
        lock (PoolLock)
        {
            if (_pooled > 0)
            {
                GemmWorkspace ws = Pool[--_pooled]!;
                Pool[_pooled] = null;
                return ws;
            }
        }

        return new GemmWorkspace();
    }

    /// <summary>Puts a workspace back for reuse.</summary>
    public static void Return(GemmWorkspace ws)
    {
        lock (PoolLock)
        {
            if (_pooled < PoolCapacity)
            {
                Pool[_pooled++] = ws;
            }
        }
    }

    /// <summary>Packed-A buffer of at least <paramref name="elements"/> elements.</summary>
    public T* PackedA<T>(long elements)
        where T : unmanaged
        => (T*)Ensure(ref _a, ref _aBytes, (nuint)elements * (nuint)sizeof(T));

    /// <summary>Packed-B buffer of at least <paramref name="elements"/> elements.</summary>
    public T* PackedB<T>(long elements)
        where T : unmanaged
        => (T*)Ensure(ref _b, ref _bBytes, (nuint)elements * (nuint)sizeof(T));

    /// <summary>Scratch tile for partial edge tiles (at least MR · NR elements).</summary>
    public T* Scratch<T>()
        where T : unmanaged
        => (T*)_scratch;

    private static void* Ensure(ref void* buffer, ref nuint capacity, nuint bytes)
    {
        if (bytes > capacity)
        {
            // Grow geometrically to a whole number of 64 KiB so repeated growth stays rare.
            nuint size = Math.Max(bytes, capacity * 2);
            size = (size + 0xFFFF) & ~(nuint)0xFFFF;
            NativeMemory.AlignedFree(buffer);
            buffer = null;
            capacity = 0;
            buffer = NativeMemory.AlignedAlloc(size, 64);
            capacity = size;
        }

        return buffer;
    }
}
