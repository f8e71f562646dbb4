// Top-k along contiguous rows: sort (value, index) keys with NaN as the largest value and ties to the lower
// index, then keep the first k. Oracle: ReferenceBackend.TopK.
using System;
using System.Collections.Generic;
using System.Numerics;
using CoLT5.Backends.Cpu.Threading;

namespace CoLT5.Backends.Cpu.Kernels;

/// <summary>Sorted top-k of each row.</summary>
internal static unsafe class TopKKernel
{
    public static void Run<T>(T* x, T* values, int* indices, long rows, int n, int k, bool largest)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CpuParallel.For(rows, n * 8L, (lo, hi) =>
        {
            var order = new int[n];
            for (var r = lo; r < hi; r++)
            {
                var row = x + r * n;
                for (var i = 0; i < n; i++)
                    order[i] = i;
                order.AsSpan().Sort(new Order<T>(row, largest));
                for (var j = 0; j < k; j++)
                {
                    values[r * k + j] = row[order[j]];
                    indices[r * k + j] = order[j];
                }
            }
        });
    }

    private readonly struct Order<T>(T* row, bool largest) : IComparer<int> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public int Compare(int a, int b)
        {
            T u = row[a], v = row[b];
            bool un = T.IsNaN(u), vn = T.IsNaN(v);
            int c;
            if (un || vn)
                c = un == vn ? 0 : un ? -1 : 1;          // NaN ranks as the largest value
            else
                c = u > v ? -1 : u < v ? 1 : 0;
            if (!largest)
                c = -c;                                  // smallest first; NaN then ranks last
            return c != 0 ? c : a.CompareTo(b);
        }
    }
}
