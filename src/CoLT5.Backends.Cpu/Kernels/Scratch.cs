// Per-thread scratch runs: strided operands are gathered into (and results scattered from) small reused arrays,
// so every kernel body can work on contiguous spans without allocating.
using System;

namespace CoLT5.Backends.Cpu.Kernels;

/// <summary>Four per-thread scratch arrays of <see cref="RunDriver.RunLength"/> elements per element type.</summary>
internal static unsafe class Scratch<T> where T : unmanaged
{
    [ThreadStatic] private static T[][]? buffers;

    /// <summary>Scratch slot <paramref name="slot"/> (0..3) as a span of n elements.</summary>
    public static Span<T> Get(int n, int slot)
    {
        buffers ??= [new T[RunDriver.RunLength], new T[RunDriver.RunLength], new T[RunDriver.RunLength],
            new T[RunDriver.RunLength]];
        return buffers[slot].AsSpan(0, n);
    }

    /// <summary>A contiguous span of n elements read from (p, stride): the memory itself when stride is 1.</summary>
    public static ReadOnlySpan<T> Read(T* p, long stride, int n, int slot)
    {
        if (stride == 1)
            return new ReadOnlySpan<T>(p, n);
        var s = Get(n, slot);
        for (var i = 0; i < n; i++)
            s[i] = p[i * stride];
        return s;
    }

    /// <summary>Copies a scratch result back to (p, stride); a no-op when the span already is that memory.</summary>
    public static void WriteBack(Span<T> values, T* p, long stride)
    {
        if (stride == 1)
            return;
        for (var i = 0; i < values.Length; i++)
            p[i * stride] = values[i];
    }
}
