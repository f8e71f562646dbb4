// Typed element access for a validated view on host memory: every dtype is read as a double and written back from a
// double with the conversion rules of the reference backend (C-cast truncation, bool = value != 0, bf16 RNE).
using System;
using CoLT5.Backends.Cpu.Memory;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Cpu.Reference;

/// <summary>
/// A view whose buffer has been checked to be host memory and whose extreme element offsets lie inside it (see
/// <c>ReferenceBackend.Host</c>). The indexer takes absolute element offsets, as produced by
/// <see cref="StridedIndex"/>.
/// </summary>
internal readonly unsafe struct HostView
{
    private readonly byte* data;

    /// <summary>Wraps an already validated view.</summary>
    public HostView(in TensorView view, CpuBuffer buffer)
    {
        View = view;
        data = (byte*)buffer.Pointer;
    }

    /// <summary>The wrapped view.</summary>
    public TensorView View { get; }

    /// <summary>Element type.</summary>
    public DType DType => View.DType;

    /// <summary>Logical shape.</summary>
    public Shape Shape => View.Shape;

    /// <summary>Rank.</summary>
    public int Rank => View.Rank;

    /// <summary>Number of logical elements.</summary>
    public long NumElements => View.NumElements;

    /// <summary>Element stride of dimension <paramref name="axis"/>.</summary>
    public long Stride(int axis) => View.Strides[axis];

    /// <summary>A fresh row-major walk over the view's elements.</summary>
    public StridedIndex Walk() => new(View);

    /// <summary>The element at absolute element offset <paramref name="offset"/>, converted to double.</summary>
    public double this[long offset]
    {
        get => DType switch
        {
            DType.Float32 => ((float*)data)[offset],
            DType.Float64 => ((double*)data)[offset],
            DType.Int32 => ((int*)data)[offset],
            DType.Bool => data[offset] != 0 ? 1.0 : 0.0,
            DType.BFloat16 => FromBFloat16(((ushort*)data)[offset]),
            _ => throw new DTypeMismatchException("reference", $"unsupported dtype {DType}"),
        };
        set
        {
            switch (DType)
            {
                case DType.Float32:
                    ((float*)data)[offset] = (float)value;
                    break;
                case DType.Float64:
                    ((double*)data)[offset] = value;
                    break;
                case DType.Int32:
                    ((int*)data)[offset] = ToInt32(value);
                    break;
                case DType.Bool:
                    data[offset] = value != 0 ? (byte)1 : (byte)0;   // NaN != 0, so NaN is true (as in C and torch)
                    break;
                case DType.BFloat16:
                    ((ushort*)data)[offset] = ToBFloat16((float)value);
                    break;
                default:
                    throw new DTypeMismatchException("reference", $"unsupported dtype {DType}");
            }
        }
    }

    /// <summary>A C cast to int: truncation toward zero; out of range saturates, NaN gives 0 (as .NET does).</summary>
    public static int ToInt32(double value)
    {
        if (double.IsNaN(value))
            return 0;
        if (value >= int.MaxValue)
            return int.MaxValue;
        if (value <= int.MinValue)
            return int.MinValue;
        return (int)Math.Truncate(value);
    }

    /// <summary>float32 → bfloat16 bits: round to nearest, ties to even; NaN stays NaN (quiet bit set).</summary>
    public static ushort ToBFloat16(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
            return (ushort)((bits >> 16) | 0x0040);
        var lowestKeptBit = (bits >> 16) & 1;
        return (ushort)((bits + 0x7FFF + lowestKeptBit) >> 16);
    }

    /// <summary>bfloat16 bits → float32 (exact: the bits become the upper half of a float32).</summary>
    public static float FromBFloat16(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);
}
