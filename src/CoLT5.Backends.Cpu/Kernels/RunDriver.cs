// Splits a strided iteration into runs of at most RunLength elements and executes them in parallel: the single
// driver behind every elementwise kernel (unary, binary, compare, where, copy, fill).
using System;
using CoLT5.Backends.Cpu.Threading;

namespace CoLT5.Backends.Cpu.Kernels;

/// <summary>Receives one run: each operand's element offset of the run's first element, and its length.</summary>
internal delegate void RunBody(ReadOnlySpan<long> offsets, int length);

/// <summary>Parallel execution of a <see cref="StridedLoop"/> in cache-sized runs.</summary>
internal static class RunDriver
{
    /// <summary>Longest run handed to a kernel (keeps scratch buffers and working sets in L1/L2).</summary>
    public const int RunLength = 4096;

    public static void ForEachRun(StridedLoop loop, int operands, RunBody body)
    {
        if (loop.Rows == 0)
            return;
        var n = loop.RowLength;
        var runsPerRow = (n + RunLength - 1) / RunLength;
        var items = loop.Rows * runsPerRow;
        CpuParallel.For(items, Math.Min(n, RunLength), (start, end) =>
        {
            Span<long> offsets = stackalloc long[operands];
            for (var item = start; item < end; item++)
            {
                var row = item / runsPerRow;
                var chunk = (int)(item % runsPerRow);
                loop.RowOffsets(row, offsets);
                var first = chunk * RunLength;
                for (var k = 0; k < operands; k++)
                    offsets[k] += first * loop.InnerStride(k);
                body(offsets, Math.Min(RunLength, n - first));
            }
        });
    }
}
