// The one error type of the safetensors reader and writer: a kind, the file, and where known the tensor and the
// absolute byte offset in the file. The message names all three.
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace CoLT5.Tensors.Serialization;

/// <summary>A safetensors file is malformed, hostile, or cannot be loaded as asked.</summary>
public sealed class SafetensorsException : IOException
{
    private const int MaxNameInMessage = 200;

    /// <summary>Creates the error with a kind, the file, a description and optional location.</summary>
    /// <param name="kind">What went wrong.</param>
    /// <param name="path">The file (or the name given to an in-memory buffer).</param>
    /// <param name="detail">A description of the problem, without the file name.</param>
    /// <param name="tensorName">The tensor concerned, if any.</param>
    /// <param name="byteOffset">The absolute byte offset in the file where the problem lies, if known.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public SafetensorsException(SafetensorsErrorKind kind, string path, string detail, string? tensorName = null,
        long? byteOffset = null, Exception? innerException = null)
        : base(Format(kind, path, detail, tensorName, byteOffset), innerException)
    {
        Kind = kind;
        Path = path ?? "";
        TensorName = tensorName;
        ByteOffset = byteOffset;
    }

    /// <summary>Creates an error of kind <see cref="SafetensorsErrorKind.Other"/>.</summary>
    public SafetensorsException() : this("safetensors error")
    {
    }

    /// <summary>Creates an error of kind <see cref="SafetensorsErrorKind.Other"/> with a message.</summary>
    public SafetensorsException(string message) : base(message)
    {
        Kind = SafetensorsErrorKind.Other;
        Path = "";
    }

    /// <summary>Creates an error of kind <see cref="SafetensorsErrorKind.Other"/> with a message and a
    /// cause.</summary>
    public SafetensorsException(string message, Exception innerException) : base(message, innerException)
    {
        Kind = SafetensorsErrorKind.Other;
        Path = "";
    }

    /// <summary>What went wrong.</summary>
    public SafetensorsErrorKind Kind { get; }

    /// <summary>The file (or the name given to an in-memory buffer); empty when unknown.</summary>
    public string Path { get; }

    /// <summary>The tensor concerned, or null when the problem is not about one tensor.</summary>
    public string? TensorName { get; }

    /// <summary>The absolute byte offset in the file where the problem lies, or null when it has none.</summary>
    public long? ByteOffset { get; }

    private static string Format(SafetensorsErrorKind kind, string path, string detail, string? tensorName,
        long? byteOffset)
    {
        var sb = new StringBuilder();
        sb.Append(path).Append(": ").Append(kind);
        if (tensorName is not null)
            sb.Append(": tensor '").Append(Printable(tensorName)).Append('\'');
        if (byteOffset is long offset)
            sb.Append(tensorName is null ? ": " : ", ").Append("at byte ").Append(offset);
        return sb.Append(": ").Append(detail).ToString();
    }

    /// <summary>"[2, 3]" for a message; very long shapes are cut short.</summary>
    internal static string FormatDims<T>(IReadOnlyList<T> dims)
    {
        const int MaxDims = 8;
        var sb = new StringBuilder("[");
        for (var i = 0; i < dims.Count && i < MaxDims; i++)
            sb.Append(i > 0 ? ", " : "").Append(dims[i]);
        if (dims.Count > MaxDims)
            sb.Append($", ... ({dims.Count} dimensions)");
        return sb.Append(']').ToString();
    }

    /// <summary>A name made safe for a message: control characters escaped, long names shortened.</summary>
    internal static string Printable(string name)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (sb.Length >= MaxNameInMessage)
                return sb.Append("...").ToString();
            var c = name[i];
            if (char.IsHighSurrogate(c) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1]))
                sb.Append(c).Append(name[++i]);
            else if (char.IsControl(c) || char.IsSurrogate(c))
                sb.Append("\\u").Append(((int)c).ToString("x4"));
            else
                sb.Append(c);
        }
        return sb.ToString();
    }
}
