// Element copies between strided runs with dtype conversion (float32, float64, int32, bool, bfloat16) and fills.
using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using CoLT5.Tensors;

namespace CoLT5.Backends.Cpu.Kernels;

/// <summary>Copy/convert and fill over raw strided runs.</summary>
internal static unsafe class ConvertKernels
{
    /// <summary>Copies n elements from (src, srcStride) to (dst, dstStride), converting dtypes.</summary>
    public static void CopyRun(DType from, void* src, long ss, DType to, void* dst, long ds, int n)
    {
        if (from == to)
        {
            switch (from.SizeOf())
            {
                case 1: Move((byte*)src, ss, (byte*)dst, ds, n); return;
                case 2: Move((ushort*)src, ss, (ushort*)dst, ds, n); return;
                case 4: Move((uint*)src, ss, (uint*)dst, ds, n); return;
                default: Move((ulong*)src, ss, (ulong*)dst, ds, n); return;
            }
        }
        switch (from, to)
        {
            case (DType.Float32, DType.Float64): Convert<float, double>((float*)src, ss, (double*)dst, ds, n); return;
            case (DType.Float64, DType.Float32): Convert<double, float>((double*)src, ss, (float*)dst, ds, n); return;
            case (DType.Int32, DType.Float32): Convert<int, float>((int*)src, ss, (float*)dst, ds, n); return;
            case (DType.Int32, DType.Float64): Convert<int, double>((int*)src, ss, (double*)dst, ds, n); return;
            case (DType.Float32, DType.Int32): Convert<float, int>((float*)src, ss, (int*)dst, ds, n); return;
            case (DType.Float64, DType.Int32): Convert<double, int>((double*)src, ss, (int*)dst, ds, n); return;
        }
        for (var i = 0; i < n; i++)
            Write(to, dst, i * ds, Read(from, src, i * ss));
    }

    private static void Move<T>(T* src, long ss, T* dst, long ds, int n) where T : unmanaged
    {
        if (ss == 1 && ds == 1)
        {
            Buffer.MemoryCopy(src, dst, (long)n * sizeof(T), (long)n * sizeof(T));
            return;
        }
        for (var i = 0; i < n; i++)
            dst[i * ds] = src[i * ss];
    }

    private static void Convert<TFrom, TTo>(TFrom* src, long ss, TTo* dst, long ds, int n)
        where TFrom : unmanaged, INumberBase<TFrom> where TTo : unmanaged, INumberBase<TTo>
    {
        for (var i = 0; i < n; i++)
            dst[i * ds] = TTo.CreateTruncating(src[i * ss]);
    }

    /// <summary>Reads one element of any dtype as a double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Read(DType dtype, void* p, long index) => dtype switch
    {
        DType.Float32 => ((float*)p)[index],
        DType.Float64 => ((double*)p)[index],
        DType.Int32 => ((int*)p)[index],
        DType.Bool => ((byte*)p)[index] != 0 ? 1 : 0,
        DType.BFloat16 => BFloat16.ToSingle(((ushort*)p)[index]),
        _ => throw new NotSupportedException(dtype.ToString()),
    };

    /// <summary>Writes a double into one element of any dtype (C-style conversion).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write(DType dtype, void* p, long index, double value)
    {
        switch (dtype)
        {
            case DType.Float32: ((float*)p)[index] = (float)value; break;
            case DType.Float64: ((double*)p)[index] = value; break;
            case DType.Int32: ((int*)p)[index] = int.CreateTruncating(value); break;
            case DType.Bool: ((byte*)p)[index] = value != 0 ? (byte)1 : (byte)0; break;
            case DType.BFloat16: ((ushort*)p)[index] = BFloat16.FromSingle((float)value); break;
            default: throw new NotSupportedException(dtype.ToString());
        }
    }

    /// <summary>Sets n strided elements to a value.</summary>
    public static void FillRun(DType dtype, void* dst, long ds, int n, double value)
    {
        switch (dtype)
        {
            case DType.Float32: Fill((float*)dst, ds, n, (float)value); break;
            case DType.Float64: Fill((double*)dst, ds, n, value); break;
            case DType.Int32: Fill((int*)dst, ds, n, int.CreateTruncating(value)); break;
            case DType.Bool: Fill((byte*)dst, ds, n, value != 0 ? (byte)1 : (byte)0); break;
            case DType.BFloat16: Fill((ushort*)dst, ds, n, BFloat16.FromSingle((float)value)); break;
            default: throw new NotSupportedException(dtype.ToString());
        }
    }

    private static void Fill<T>(T* dst, long ds, int n, T value) where T : unmanaged
    {
        if (ds == 1)
        {
            new Span<T>(dst, n).Fill(value);
            return;
        }
        for (var i = 0; i < n; i++)
            dst[i * ds] = value;
    }
}

/// <summary>bfloat16 bit conversions (the upper half of an IEEE binary32).</summary>
internal static class BFloat16
{
    /// <summary>Widening is exact: shift the 16 bits into the top of a float.</summary>
    public static float ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>Round to nearest, ties to even; NaN stays a quiet NaN.</summary>
    public static ushort FromSingle(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
            return (ushort)((bits >> 16) | 0x40);
        var rounding = 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }
}
