// What went wrong with a safetensors file. The first ten members carry the reference implementation's error names,
// in the order its validation reports them; the rest are this reader's policy checks and load-time errors.
namespace CoLT5.Tensors.Serialization;

/// <summary>The kind of a <see cref="SafetensorsException"/>.</summary>
public enum SafetensorsErrorKind
{
    /// <summary>The file is shorter than the 8-byte header length field.</summary>
    HeaderTooSmall,

    /// <summary>The declared header length exceeds 100,000,000 bytes.</summary>
    HeaderTooLarge,

    /// <summary>The declared header extends past the end of the file.</summary>
    InvalidHeaderLength,

    /// <summary>The header bytes are not valid UTF-8.</summary>
    InvalidHeader,

    /// <summary>The header is not the expected JSON: malformed JSON, not an object, a missing or mistyped field,
    /// an unknown dtype, a number that is not an unsigned 64-bit integer, a metadata value that is not a
    /// string.</summary>
    InvalidHeaderDeserialization,

    /// <summary>The data_offsets, sorted, do not tile the data section from 0 without holes or overlaps, or a
    /// tensor ends before it begins.</summary>
    InvalidOffset,

    /// <summary>Checked size arithmetic overflowed, or a dimension or offset exceeds the format's 2^48−1
    /// limit.</summary>
    ValidationOverflow,

    /// <summary>A tensor's byte range does not match its shape and dtype.</summary>
    TensorInvalidInfo,

    /// <summary>A sub-byte dtype's data does not end on a byte boundary.</summary>
    MisalignedSlice,

    /// <summary>The data section is not exactly as long as the tensors need (truncated file or trailing
    /// bytes).</summary>
    MetadataIncompleteBuffer,

    /// <summary>Policy: a JSON object in the header repeats a key (the reference keeps the last one).</summary>
    DuplicateKey,

    /// <summary>Policy: a tensor entry has a field other than dtype, shape and data_offsets (the format's schema
    /// forbids it; the reference ignores it).</summary>
    UnknownField,

    /// <summary>No tensor has the requested name.</summary>
    TensorNotFound,

    /// <summary>The tensor's dtype cannot be converted to the requested dtype.</summary>
    UnsupportedConversion,

    /// <summary>The tensor is valid but too large for this engine (a dimension above int.MaxValue).</summary>
    UnsupportedShape,

    /// <summary>An element cannot be converted exactly to the requested integer or bool dtype (for example an
    /// I64 value outside the Int32 range, or a BOOL byte other than 0 or 1).</summary>
    ValueOutOfRange,

    /// <summary>The file could not be read as validated (it shrank or changed after it was opened).</summary>
    IoError,

    /// <summary>An error built with one of the general-purpose constructors.</summary>
    Other,
}
