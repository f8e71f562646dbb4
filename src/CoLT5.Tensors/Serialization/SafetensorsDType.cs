// The element types a safetensors file can name, with their on-disk names and bit sizes. Declared in the format's
// order of increasing alignment, which is also the order the writer sorts by (descending).
using System;
using System.Collections.Generic;

namespace CoLT5.Tensors.Serialization;

/// <summary>A dtype as a safetensors header names it (file order: increasing alignment).</summary>
public enum SafetensorsDType
{
    /// <summary>"BOOL": one byte, 0 or 1.</summary>
    Bool,

    /// <summary>"F4": 4-bit float (E2M1).</summary>
    F4,

    /// <summary>"F6_E2M3": 6-bit float.</summary>
    F6E2M3,

    /// <summary>"F6_E3M2": 6-bit float.</summary>
    F6E3M2,

    /// <summary>"U8": unsigned 8-bit integer.</summary>
    U8,

    /// <summary>"I8": signed 8-bit integer.</summary>
    I8,

    /// <summary>"F8_E5M2": 8-bit float.</summary>
    F8E5M2,

    /// <summary>"F8_E4M3": 8-bit float.</summary>
    F8E4M3,

    /// <summary>"F8_E8M0": 8-bit exponent-only float.</summary>
    F8E8M0,

    /// <summary>"F8_E4M3FNUZ": 8-bit float.</summary>
    F8E4M3Fnuz,

    /// <summary>"F8_E5M2FNUZ": 8-bit float.</summary>
    F8E5M2Fnuz,

    /// <summary>"I16": signed 16-bit integer.</summary>
    I16,

    /// <summary>"U16": unsigned 16-bit integer.</summary>
    U16,

    /// <summary>"F16": IEEE binary16 (<see cref="Half"/>).</summary>
    F16,

    /// <summary>"BF16": bfloat16, the upper 16 bits of a binary32.</summary>
    BF16,

    /// <summary>"I32": signed 32-bit integer.</summary>
    I32,

    /// <summary>"U32": unsigned 32-bit integer.</summary>
    U32,

    /// <summary>"F32": IEEE binary32.</summary>
    F32,

    /// <summary>"C64": complex of two binary32.</summary>
    C64,

    /// <summary>"F64": IEEE binary64.</summary>
    F64,

    /// <summary>"I64": signed 64-bit integer.</summary>
    I64,

    /// <summary>"U64": unsigned 64-bit integer.</summary>
    U64,
}

/// <summary>Facts about <see cref="SafetensorsDType"/> values.</summary>
public static class SafetensorsDTypes
{
    private static readonly string[] Names =
    [
        "BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ",
        "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64",
    ];

    private static readonly Dictionary<string, SafetensorsDType> ByName = BuildIndex();

    /// <summary>The name the header uses ("F32", "BF16", "F8_E4M3", ...).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a member of the enum.</exception>
    public static string FileName(this SafetensorsDType dtype) =>
        (uint)dtype < (uint)Names.Length
            ? Names[(int)dtype]
            : throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown safetensors dtype");

    /// <summary>Parses a header dtype name (exact, case-sensitive, as the format requires).</summary>
    public static bool TryParse(string name, out SafetensorsDType dtype) => ByName.TryGetValue(name, out dtype);

    /// <summary>Bits per element (4, 6, 8, 16, 32 or 64).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a member of the enum.</exception>
    public static int BitSize(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F4 => 4,
        SafetensorsDType.F6E2M3 or SafetensorsDType.F6E3M2 => 6,
        SafetensorsDType.Bool or SafetensorsDType.U8 or SafetensorsDType.I8 or SafetensorsDType.F8E5M2
            or SafetensorsDType.F8E4M3 or SafetensorsDType.F8E8M0 or SafetensorsDType.F8E4M3Fnuz
            or SafetensorsDType.F8E5M2Fnuz => 8,
        SafetensorsDType.I16 or SafetensorsDType.U16 or SafetensorsDType.F16 or SafetensorsDType.BF16 => 16,
        SafetensorsDType.I32 or SafetensorsDType.U32 or SafetensorsDType.F32 => 32,
        SafetensorsDType.C64 or SafetensorsDType.F64 or SafetensorsDType.I64 or SafetensorsDType.U64 => 64,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown safetensors dtype"),
    };

    /// <summary>True for F16, BF16, F32 and F64: the dtypes that load into Float32, Float64 or BFloat16.</summary>
    public static bool IsLoadableFloat(this SafetensorsDType dtype) =>
        dtype is SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.F32 or SafetensorsDType.F64;

    /// <summary>True for BOOL and the 8- to 64-bit integer dtypes: the dtypes that load into Int32 or Bool
    /// (exactly, or not at all).</summary>
    public static bool IsLoadableInteger(this SafetensorsDType dtype) =>
        dtype is SafetensorsDType.Bool or SafetensorsDType.U8 or SafetensorsDType.I8 or SafetensorsDType.I16
            or SafetensorsDType.U16 or SafetensorsDType.I32 or SafetensorsDType.U32 or SafetensorsDType.I64
            or SafetensorsDType.U64;

    private static Dictionary<string, SafetensorsDType> BuildIndex()
    {
        var index = new Dictionary<string, SafetensorsDType>(StringComparer.Ordinal);
        for (var i = 0; i < Names.Length; i++)
            index.Add(Names[i], (SafetensorsDType)i);
        return index;
    }
}
