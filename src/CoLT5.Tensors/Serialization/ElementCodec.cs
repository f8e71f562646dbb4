// Element conversions between safetensors bytes (little-endian, any alignment) and tensor buffers (host order):
// floats round to nearest-even, integers and bools convert exactly or report the first element that cannot.
using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CoLT5.Tensors.Serialization;

/// <summary>Decodes file elements into tensor elements and encodes tensor elements into file elements.</summary>
internal static class ElementCodec
{
    /// <summary>True when <see cref="Decode"/> supports the pair.</summary>
    public static bool CanDecode(SafetensorsDType from, DType to) => to switch
    {
        DType.Float32 or DType.Float64 or DType.BFloat16 => from.IsLoadableFloat(),
        DType.Int32 or DType.Bool => from.IsLoadableInteger(),
        _ => false,
    };

    /// <summary>True when <see cref="Encode"/> supports the pair.</summary>
    public static bool CanEncode(DType from, SafetensorsDType to) => from switch
    {
        DType.Float32 or DType.Float64 or DType.BFloat16 => to.IsLoadableFloat(),
        DType.Int32 => to == SafetensorsDType.I32,
        DType.Bool => to == SafetensorsDType.Bool,
        _ => false,
    };

    /// <summary>Converts <paramref name="count"/> file elements to tensor elements.</summary>
    /// <returns>-1, or the index of the first element that has no exact integer/bool value.</returns>
    public static int Decode(SafetensorsDType from, DType to, ReadOnlySpan<byte> src, Span<byte> dst, int count)
    {
        if (BitConverter.IsLittleEndian && SameRepresentation(from, to))
        {
            src[..(count * to.SizeOf())].CopyTo(dst);
            return -1;
        }
        switch (to)
        {
            case DType.Float32:
                for (var i = 0; i < count; i++)
                    Put(dst, i, ReadAsSingle(from, src, i));
                return -1;
            case DType.Float64:
                for (var i = 0; i < count; i++)
                    Put(dst, i, ReadAsDouble(from, src, i));
                return -1;
            case DType.BFloat16:
                for (var i = 0; i < count; i++)
                    Put(dst, i, ReadAsBFloat16(from, src, i));
                return -1;
            case DType.Int32:
                for (var i = 0; i < count; i++)
                {
                    if (!TryReadInteger(from, src, i, out var value) || value < int.MinValue || value > int.MaxValue)
                        return i;
                    Put(dst, i, (int)value);
                }
                return -1;
            case DType.Bool:
                for (var i = 0; i < count; i++)
                {
                    if (!TryReadInteger(from, src, i, out var value) || value is not (0 or 1))
                        return i;
                    dst[i] = (byte)value;
                }
                return -1;
            default:
                throw new NotSupportedException($"cannot decode {from.FileName()} into {to.Name()}");
        }
    }

    /// <summary>Converts <paramref name="count"/> tensor elements to file elements.</summary>
    public static void Encode(DType from, SafetensorsDType to, ReadOnlySpan<byte> src, Span<byte> dst, int count)
    {
        if (from == DType.Bool)
        {
            for (var i = 0; i < count; i++)
                dst[i] = src[i] != 0 ? (byte)1 : (byte)0;
            return;
        }
        if (BitConverter.IsLittleEndian && SameRepresentation(to, from))
        {
            src[..(count * from.SizeOf())].CopyTo(dst);
            return;
        }
        switch (from, to)
        {
            case (DType.Int32, SafetensorsDType.I32):
                for (var i = 0; i < count; i++)
                    BinaryPrimitives.WriteInt32LittleEndian(dst[(i * 4)..], Get<int>(src, i));
                return;
            case (DType.Float32, _):
                for (var i = 0; i < count; i++)
                    WriteFloat(to, dst, i, Get<float>(src, i));
                return;
            case (DType.Float64, _):
                for (var i = 0; i < count; i++)
                    WriteFloat(to, dst, i, Get<double>(src, i));
                return;
            case (DType.BFloat16, _):
                for (var i = 0; i < count; i++)
                    WriteFloat(to, dst, i, WidenBFloat16(Get<ushort>(src, i)));
                return;
            default:
                throw new NotSupportedException($"cannot encode {from.Name()} as {to.FileName()}");
        }
    }

    /// <summary>bfloat16 bits of a float: round to nearest, ties to even; a NaN stays a (quiet) NaN.</summary>
    public static ushort BFloat16FromSingle(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
            return (ushort)((bits >> 16) | 0x40);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1)) >> 16);
    }

    /// <summary>bfloat16 bits of a double, correctly rounded (nearest, ties to even) without double rounding:
    /// round to float32 with round-to-odd first, then to bfloat16.</summary>
    public static ushort BFloat16FromDouble(double value)
    {
        var f = (float)value;
        if (double.IsNaN(value) || (double)f == value)
            return BFloat16FromSingle(f);
        var bits = BitConverter.SingleToUInt32Bits(f);
        if (Math.Abs((double)f) > Math.Abs(value))
            bits--; // f was rounded away from zero (possibly to infinity): truncate instead
        return BFloat16FromSingle(BitConverter.UInt32BitsToSingle(bits | 1));
    }

    /// <summary>The float a bfloat16 stands for (exact).</summary>
    public static float WidenBFloat16(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    private static bool SameRepresentation(SafetensorsDType file, DType tensor) => (file, tensor) switch
    {
        (SafetensorsDType.F32, DType.Float32) => true,
        (SafetensorsDType.F64, DType.Float64) => true,
        (SafetensorsDType.BF16, DType.BFloat16) => true,
        (SafetensorsDType.I32, DType.Int32) => true,
        _ => false,
    };

    private static float ReadAsSingle(SafetensorsDType from, ReadOnlySpan<byte> src, int i) => from switch
    {
        SafetensorsDType.F32 => BinaryPrimitives.ReadSingleLittleEndian(src[(i * 4)..]),
        SafetensorsDType.F64 => (float)BinaryPrimitives.ReadDoubleLittleEndian(src[(i * 8)..]),
        SafetensorsDType.F16 => (float)BinaryPrimitives.ReadHalfLittleEndian(src[(i * 2)..]),
        SafetensorsDType.BF16 => WidenBFloat16(BinaryPrimitives.ReadUInt16LittleEndian(src[(i * 2)..])),
        _ => throw new NotSupportedException(from.FileName()),
    };

    private static double ReadAsDouble(SafetensorsDType from, ReadOnlySpan<byte> src, int i) => from switch
    {
        SafetensorsDType.F64 => BinaryPrimitives.ReadDoubleLittleEndian(src[(i * 8)..]),
        SafetensorsDType.F32 => BinaryPrimitives.ReadSingleLittleEndian(src[(i * 4)..]),
        SafetensorsDType.F16 => (double)BinaryPrimitives.ReadHalfLittleEndian(src[(i * 2)..]),
        SafetensorsDType.BF16 => WidenBFloat16(BinaryPrimitives.ReadUInt16LittleEndian(src[(i * 2)..])),
        _ => throw new NotSupportedException(from.FileName()),
    };

    private static ushort ReadAsBFloat16(SafetensorsDType from, ReadOnlySpan<byte> src, int i) => from switch
    {
        SafetensorsDType.BF16 => BinaryPrimitives.ReadUInt16LittleEndian(src[(i * 2)..]),
        SafetensorsDType.F32 => BFloat16FromSingle(BinaryPrimitives.ReadSingleLittleEndian(src[(i * 4)..])),
        SafetensorsDType.F64 => BFloat16FromDouble(BinaryPrimitives.ReadDoubleLittleEndian(src[(i * 8)..])),
        SafetensorsDType.F16 => BFloat16FromSingle((float)BinaryPrimitives.ReadHalfLittleEndian(src[(i * 2)..])),
        _ => throw new NotSupportedException(from.FileName()),
    };

    private static bool TryReadInteger(SafetensorsDType from, ReadOnlySpan<byte> src, int i, out long value)
    {
        switch (from)
        {
            case SafetensorsDType.Bool:
                value = src[i];
                return value <= 1;
            case SafetensorsDType.U8:
                value = src[i];
                return true;
            case SafetensorsDType.I8:
                value = (sbyte)src[i];
                return true;
            case SafetensorsDType.I16:
                value = BinaryPrimitives.ReadInt16LittleEndian(src[(i * 2)..]);
                return true;
            case SafetensorsDType.U16:
                value = BinaryPrimitives.ReadUInt16LittleEndian(src[(i * 2)..]);
                return true;
            case SafetensorsDType.I32:
                value = BinaryPrimitives.ReadInt32LittleEndian(src[(i * 4)..]);
                return true;
            case SafetensorsDType.U32:
                value = BinaryPrimitives.ReadUInt32LittleEndian(src[(i * 4)..]);
                return true;
            case SafetensorsDType.I64:
                value = BinaryPrimitives.ReadInt64LittleEndian(src[(i * 8)..]);
                return true;
            case SafetensorsDType.U64:
                var u = BinaryPrimitives.ReadUInt64LittleEndian(src[(i * 8)..]);
                value = u > long.MaxValue ? long.MaxValue : (long)u;
                return u <= long.MaxValue;
            default:
                throw new NotSupportedException(from.FileName());
        }
    }

    private static void WriteFloat(SafetensorsDType to, Span<byte> dst, int i, double value)
    {
        switch (to)
        {
            case SafetensorsDType.F64:
                BinaryPrimitives.WriteDoubleLittleEndian(dst[(i * 8)..], value);
                break;
            case SafetensorsDType.F32:
                BinaryPrimitives.WriteSingleLittleEndian(dst[(i * 4)..], (float)value);
                break;
            case SafetensorsDType.F16:
                BinaryPrimitives.WriteHalfLittleEndian(dst[(i * 2)..], (Half)value);
                break;
            case SafetensorsDType.BF16:
                BinaryPrimitives.WriteUInt16LittleEndian(dst[(i * 2)..], BFloat16FromDouble(value));
                break;
            default:
                throw new NotSupportedException(to.FileName());
        }
    }

    private static T Get<T>(ReadOnlySpan<byte> src, int i) where T : unmanaged =>
        MemoryMarshal.Read<T>(src[(i * Unsafe.SizeOf<T>())..]);

    private static void Put<T>(Span<byte> dst, int i, T value) where T : unmanaged =>
        MemoryMarshal.Write(dst[(i * Unsafe.SizeOf<T>())..], in value);
}
