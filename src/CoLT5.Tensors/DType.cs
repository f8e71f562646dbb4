// Element types a tensor can hold, and their sizes. float32 is the model type, float64 the checking type.
using System;

namespace CoLT5.Tensors;

/// <summary>The element type of a tensor.</summary>
public enum DType : byte
{
    /// <summary>IEEE 754 binary32: the model's working type.</summary>
    Float32,

    /// <summary>IEEE 754 binary64: gradient checks and reference computations (CPU only).</summary>
    Float64,

    /// <summary>Signed 32-bit integers: token ids, indices, targets.</summary>
    Int32,

    /// <summary>Booleans stored one per byte (0 or 1): masks and conditions.</summary>
    Bool,

    /// <summary>bfloat16 storage (the upper half of a float32). Reserved: checkpoints load it by converting.</summary>
    BFloat16,
}

/// <summary>Facts about <see cref="DType"/> values.</summary>
public static class DTypes
{
    /// <summary>Bytes per element.</summary>
    public static int SizeOf(this DType dtype) => dtype switch
    {
        DType.Float32 => 4,
        DType.Float64 => 8,
        DType.Int32 => 4,
        DType.Bool => 1,
        DType.BFloat16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    /// <summary>True for the floating-point types that autograd can differentiate.</summary>
    public static bool IsFloatingPoint(this DType dtype) =>
        dtype is DType.Float32 or DType.Float64 or DType.BFloat16;

    /// <summary>The lower-case name used in messages and files ("float32", "int32", ...).</summary>
    public static string Name(this DType dtype) => dtype switch
    {
        DType.Float32 => "float32",
        DType.Float64 => "float64",
        DType.Int32 => "int32",
        DType.Bool => "bool",
        DType.BFloat16 => "bfloat16",
        _ => dtype.ToString(),
    };

    /// <summary>The dtype of a CLR element type (float, double, int, bool).</summary>
    public static DType Of<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? DType.Float32
        : typeof(T) == typeof(double) ? DType.Float64
        : typeof(T) == typeof(int) ? DType.Int32
        : typeof(T) == typeof(bool) || typeof(T) == typeof(byte) ? DType.Bool
        : throw new NotSupportedException($"no tensor dtype for element type {typeof(T).Name}");
}
