// Counter-based random fills: element i of a draw uses Philox stream (seed, offset + i), so a range of elements
// can be filled by any thread in any order and still match every other backend bit for bit.
using System;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;
using CoLT5.Tensors.Random;

namespace CoLT5.Backends.Cpu.Kernels;

/// <summary>Fills [lo, hi) of a contiguous destination with uniform, normal or Bernoulli samples.</summary>
internal static unsafe class RandomKernels
{
    public static void Fill(RandomKind kind, ulong seed, ulong offset, DType dtype, void* buffer, long start, long lo,
        long hi, double a, double b)
    {
        if (kind == RandomKind.Uniform && dtype == DType.Float32)
        {
            // float32 uniforms are computed in float: a + (b - a)·u with 24-bit u.
            float fa = (float)a, width = (float)b - (float)a;
            var y = (float*)buffer + start;
            for (var i = lo; i < hi; i++)
                y[i] = fa + width * Philox.UniformFloat(seed, offset + (ulong)i);
            return;
        }
        var threshold = Philox.Threshold(a);
        for (var i = lo; i < hi; i++)
        {
            var e = offset + (ulong)i;
            var value = kind switch
            {
                RandomKind.Uniform => a + (b - a) * Philox.UniformDouble(seed, e),
                RandomKind.Normal => a + b * Philox.Normal(seed, e),
                RandomKind.Bernoulli => Philox.Bits32(seed, e) < threshold ? 1.0 : 0.0,
                _ => throw new NotSupportedException(kind.ToString()),
            };
            ConvertKernels.Write(dtype, buffer, start + i, value);
        }
    }
}
