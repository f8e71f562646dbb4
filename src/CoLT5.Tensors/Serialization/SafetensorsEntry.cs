// One validated tensor entry of a safetensors header: name, dtype, shape and byte range. Only the reader creates
// entries, after the whole header has passed validation, so every number here is within the format's limits.
using System;
using System.Collections.ObjectModel;

namespace CoLT5.Tensors.Serialization;

/// <summary>A tensor as the header describes it. Offsets are relative to the start of the data section.</summary>
public sealed class SafetensorsEntry
{
    internal SafetensorsEntry(string name, SafetensorsDType dtype, long[] shape, long elementCount, long begin,
        long end, long dataStart)
    {
        Name = name;
        FileDType = dtype;
        Shape = Array.AsReadOnly(shape);
        ElementCount = elementCount;
        Begin = begin;
        End = end;
        FileOffset = dataStart + begin;
    }

    /// <summary>The tensor's name (any UTF-8 string other than "__metadata__").</summary>
    public string Name { get; }

    /// <summary>The dtype stored in the file.</summary>
    public SafetensorsDType FileDType { get; }

    /// <summary>The dtype as the header spells it ("F32", "BF16", ...).</summary>
    public string DTypeName => FileDType.FileName();

    /// <summary>The dimensions (empty for a 0-d scalar). Each is at most 2^48−1.</summary>
    public ReadOnlyCollection<long> Shape { get; }

    /// <summary>Start of the data, in bytes from the start of the data section (data_offsets[0]).</summary>
    public long Begin { get; }

    /// <summary>End of the data (exclusive), in bytes from the start of the data section (data_offsets[1]).</summary>
    public long End { get; }

    /// <summary>Number of data bytes (<see cref="End"/> − <see cref="Begin"/>).</summary>
    public long ByteLength => End - Begin;

    /// <summary>Absolute offset of the data in the file.</summary>
    public long FileOffset { get; }

    /// <summary>Number of elements (1 for a scalar, 0 when some dimension is 0).</summary>
    public long ElementCount { get; }

    /// <summary>The dtype this entry loads as by default: <paramref name="floatTarget"/> for F16/BF16/F32/F64,
    /// <see cref="DType.Int32"/> for integers, <see cref="DType.Bool"/> for BOOL; null for dtypes
    /// this engine cannot hold (F4, F6, F8, C64).</summary>
    public DType? NaturalTarget(DType floatTarget = DType.Float32) =>
        FileDType == SafetensorsDType.Bool ? DType.Bool
        : FileDType.IsLoadableInteger() ? DType.Int32
        : FileDType.IsLoadableFloat() ? floatTarget
        : null;

    /// <summary>"name: F32 [2, 3] @ [0, 24)".</summary>
    public override string ToString() =>
        $"{SafetensorsException.Printable(Name)}: {DTypeName} {SafetensorsException.FormatDims(Shape)} " +
        $"@ [{Begin}, {End})";
}
