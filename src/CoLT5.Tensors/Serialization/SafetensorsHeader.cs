// Reads and validates a safetensors header, in the reference order (ecosystem notes §1.3), before anything sized
// by the file is allocated: length field, UTF-8, strict JSON (no duplicate keys, no unknown tensor fields), then
// the offsets must tile the data section exactly with checked size arithmetic.
using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace CoLT5.Tensors.Serialization;

/// <summary>A fully validated header: metadata and entries sorted by data offset.</summary>
internal sealed class SafetensorsHeader
{
    /// <summary>The largest header length (N) a file may declare.</summary>
    public const ulong MaxHeaderLength = 100_000_000;

    /// <summary>The largest dimension or byte offset the format allows (2^48 − 1).</summary>
    public const ulong MaxSize = (1UL << 48) - 1;

    /// <summary>The key of the metadata object, which can therefore never name a tensor.</summary>
    public const string MetadataKey = "__metadata__";

    private static readonly JsonDocumentOptions StrictJson = new()
    {
        AllowDuplicateProperties = false,
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 64,
    };

    private static readonly JsonDocumentOptions LenientJson = new()
    {
        AllowDuplicateProperties = true,
        MaxDepth = 64,
    };

    private readonly string path;

    private SafetensorsHeader(string path, long headerLength)
    {
        this.path = path;
        HeaderLength = headerLength;
    }

    /// <summary>N, the byte length of the JSON header.</summary>
    public long HeaderLength { get; }

    /// <summary>Absolute file offset of the data section (8 + N).</summary>
    public long DataStart => 8 + HeaderLength;

    /// <summary>The "__metadata__" map (empty when absent).</summary>
    public Dictionary<string, string> Metadata { get; private set; } = new(StringComparer.Ordinal);

    /// <summary>The entries in data-offset order.</summary>
    public SafetensorsEntry[] Entries { get; private set; } = [];

    /// <summary>Reads and validates the header of <paramref name="source"/>.</summary>
    /// <exception cref="SafetensorsException">The header or the layout it describes is invalid.</exception>
    public static SafetensorsHeader Read(ByteSource source)
    {
        var path = source.Path;

        // 1. The length field.
        if (source.Length < 8)
            throw new SafetensorsException(SafetensorsErrorKind.HeaderTooSmall, path,
                $"the file is {source.Length} bytes long, shorter than the 8-byte header length field", null, 0);
        Span<byte> lengthField = stackalloc byte[8];
        source.ReadExactly(0, lengthField);
        var n = BinaryPrimitives.ReadUInt64LittleEndian(lengthField);

        // 2. Bounded before any arithmetic with it (N may be 2^64 - 1).
        if (n > MaxHeaderLength)
            throw new SafetensorsException(SafetensorsErrorKind.HeaderTooLarge, path,
                $"the header length field says {n} bytes; at most {MaxHeaderLength} are allowed", null, 0);

        // 3. Against the remaining length (no 8 + N that could overflow; Length >= 8 here).
        if (n > (ulong)(source.Length - 8))
            throw new SafetensorsException(SafetensorsErrorKind.InvalidHeaderLength, path,
                $"the header length field says {n} bytes but only {source.Length - 8} bytes follow it", null, 0);

        var header = new SafetensorsHeader(path, (long)n);
        var bytes = new byte[(int)n];
        source.ReadExactly(8, bytes);

        // 4. UTF-8.
        if (!Utf8.IsValid(bytes))
            throw new SafetensorsException(SafetensorsErrorKind.InvalidHeader, path,
                "the header is not valid UTF-8", null, 8 + FirstInvalidUtf8(bytes));

        // 5. Strict JSON into the typed header.
        var raw = new List<RawEntry>();
        using (var document = header.ParseJson(bytes))
            header.Interpret(document.RootElement, raw);

        // 6.-8. Layout.
        header.Entries = header.ValidateLayout(raw, (ulong)(source.Length - 8) - n);
        return header;
    }

    private JsonDocument ParseJson(byte[] bytes)
    {
        try
        {
            return JsonDocument.Parse(bytes, StrictJson);
        }
        catch (JsonException e)
        {
            // The strict parse also fails on duplicate keys; a lenient re-parse tells the two apart.
            if (FindDuplicate(bytes) is { } duplicate)
                throw new SafetensorsException(SafetensorsErrorKind.DuplicateKey, path,
                    $"key '{SafetensorsException.Printable(duplicate.Key)}' appears more than once in " +
                    $"{duplicate.Where}; duplicate keys are not allowed", duplicate.Tensor, null, e);
            throw new SafetensorsException(SafetensorsErrorKind.InvalidHeaderDeserialization, path,
                $"the header is not valid JSON: {e.Message}", null, JsonErrorOffset(bytes, e), e);
        }
        catch (InvalidOperationException e)
        {
            // The duplicate-key check unescapes every key; a lone surrogate escape ("\ud800") fails there.
            throw new SafetensorsException(SafetensorsErrorKind.InvalidHeaderDeserialization, path,
                $"a key is not a valid Unicode string: {e.Message}", null, null, e);
        }
    }

    private void Interpret(JsonElement root, List<RawEntry> raw)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw Invalid(null, $"the header must be a JSON object, not {Describe(root.ValueKind)}");
        foreach (var property in root.EnumerateObject())
        {
            var name = PropertyName(property, null);
            if (name == MetadataKey)
                Metadata = ReadMetadata(property.Value);
            else
                raw.Add(ReadEntry(name, property.Value));
        }
    }

    private Dictionary<string, string> ReadMetadata(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Invalid(null, $"{MetadataKey} must be an object of strings, not {Describe(value.ValueKind)}");
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in value.EnumerateObject())
        {
            var key = PropertyName(item, null);
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Invalid(null, $"{MetadataKey} value for '{SafetensorsException.Printable(key)}' must be a " +
                    $"string, not {Describe(item.Value.ValueKind)}");
            metadata[key] = StringValue(item.Value, null);
        }
        return metadata;
    }

    private RawEntry ReadEntry(string name, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Invalid(name, "a tensor entry must be an object with dtype, shape and data_offsets, not " +
                Describe(value.ValueKind));
        string? dtypeName = null;
        ulong[]? shape = null;
        ulong[]? offsets = null;
        string? unknownField = null;
        foreach (var field in value.EnumerateObject())
        {
            var fieldName = PropertyName(field, name);
            switch (fieldName)
            {
                case "dtype":
                    if (field.Value.ValueKind != JsonValueKind.String)
                        throw Invalid(name, $"dtype must be a string, not {Describe(field.Value.ValueKind)}");
                    dtypeName = StringValue(field.Value, name);
                    break;
                case "shape":
                    shape = ReadUnsignedArray(name, "shape", field.Value);
                    break;
                case "data_offsets":
                    offsets = ReadUnsignedArray(name, "data_offsets", field.Value);
                    if (offsets.Length != 2)
                        throw Invalid(name, $"data_offsets must hold exactly 2 integers, not {offsets.Length}");
                    break;
                default:
                    unknownField ??= fieldName;
                    break;
            }
        }
        if (dtypeName is null)
            throw Invalid(name, "missing field 'dtype'");
        if (shape is null)
            throw Invalid(name, "missing field 'shape'");
        if (offsets is null)
            throw Invalid(name, "missing field 'data_offsets'");
        if (!SafetensorsDTypes.TryParse(dtypeName, out var dtype))
            throw Invalid(name, $"unknown dtype '{SafetensorsException.Printable(dtypeName)}'");
        if (unknownField is not null)
            throw new SafetensorsException(SafetensorsErrorKind.UnknownField, path,
                $"unknown field '{SafetensorsException.Printable(unknownField)}' in the tensor entry; only dtype, " +
                "shape and data_offsets are allowed", name);
        return new RawEntry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private ulong[] ReadUnsignedArray(string tensor, string field, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array)
            throw Invalid(tensor, $"{field} must be an array of integers, not {Describe(value.ValueKind)}");
        var result = new ulong[value.GetArrayLength()];
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetUInt64(out result[i]))
                throw Invalid(tensor, $"{field}[{i}] must be an unsigned 64-bit integer, not " +
                    $"{Shorten(item.GetRawText())}");
            i++;
        }
        return result;
    }

    private SafetensorsEntry[] ValidateLayout(List<RawEntry> raw, ulong dataLength)
    {
        // 6. Sort by data_offsets (then name, for a deterministic order among empty tensors).
        raw.Sort(static (a, b) =>
        {
            var c = a.Begin.CompareTo(b.Begin);
            if (c == 0)
                c = a.End.CompareTo(b.End);
            return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
        });
        var entries = new SafetensorsEntry[raw.Count];
        ulong covered = 0;
        for (var i = 0; i < raw.Count; i++)
        {
            var e = raw[i];
            var at = FileOffset(e.Begin);
            if (e.Begin != covered || e.End < e.Begin)
            {
                var why = e.End < e.Begin ? $"it ends ({e.End}) before it begins"
                    : e.Begin > covered ? $"bytes {covered}..{e.Begin} of the data section belong to no tensor"
                    : $"it overlaps the previous tensor, which ends at {covered}";
                throw new SafetensorsException(SafetensorsErrorKind.InvalidOffset, path,
                    $"data_offsets [{e.Begin}, {e.End}] do not continue the data section at {covered}: {why}",
                    e.Name, at);
            }
            covered = e.End;

            // 7. Checked element count and byte size.
            if (e.End > MaxSize)
                throw Overflow(e, at, $"data_offsets end {e.End} exceeds the format limit 2^48-1");
            ulong count = 1;
            foreach (var d in e.Shape)
            {
                if (d > MaxSize)
                    throw Overflow(e, at, $"dimension {d} exceeds the format limit 2^48-1");
                if (!TryMultiply(count, d, out count))
                    throw Overflow(e, at, $"the element count of shape {SafetensorsException.FormatDims(e.Shape)} overflows 64 bits");
            }
            var bits = (ulong)e.DType.BitSize();
            if (!TryMultiply(count, bits, out var totalBits))
                throw Overflow(e, at, $"{count} elements of {bits} bits overflow 64 bits");
            if (totalBits % 8 != 0)
                throw new SafetensorsException(SafetensorsErrorKind.MisalignedSlice, path,
                    $"{count} elements of {e.DType.FileName()} are {totalBits} bits, not a whole number of bytes",
                    e.Name, at);
            var size = totalBits / 8;
            if (e.End - e.Begin != size)
                throw new SafetensorsException(SafetensorsErrorKind.TensorInvalidInfo, path,
                    $"data_offsets [{e.Begin}, {e.End}] span {e.End - e.Begin} bytes but {e.DType.FileName()} " +
                    $"{SafetensorsException.FormatDims(e.Shape)} needs {size}", e.Name, at);

            var shape = new long[e.Shape.Length];
            for (var k = 0; k < shape.Length; k++)
                shape[k] = (long)e.Shape[k];
            entries[i] = new SafetensorsEntry(e.Name, e.DType, shape, (long)count, (long)e.Begin, (long)e.End,
                DataStart);
        }

        // 8. The tensors must cover the data section exactly.
        if (covered != dataLength)
        {
            var why = covered < dataLength
                ? $"{dataLength - covered} bytes follow the last tensor"
                : $"the file is {covered - dataLength} bytes too short for the tensors";
            throw new SafetensorsException(SafetensorsErrorKind.MetadataIncompleteBuffer, path,
                $"the data section is {dataLength} bytes but the tensors cover {covered}: {why}", null,
                FileOffset(Math.Min(covered, dataLength)));
        }
        return entries;
    }

    private long? FileOffset(ulong dataOffset) =>
        dataOffset <= (ulong)(long.MaxValue - DataStart) ? DataStart + (long)dataOffset : null;

    private SafetensorsException Overflow(RawEntry e, long? at, string detail) =>
        new(SafetensorsErrorKind.ValidationOverflow, path, detail, e.Name, at);

    private SafetensorsException Invalid(string? tensor, string detail) =>
        new(SafetensorsErrorKind.InvalidHeaderDeserialization, path, detail, tensor);

    private string PropertyName(JsonProperty property, string? tensor)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException e)
        {
            throw new SafetensorsException(SafetensorsErrorKind.InvalidHeaderDeserialization, path,
                $"a key is not a valid Unicode string: {e.Message}", tensor, null, e);
        }
    }

    private string StringValue(JsonElement value, string? tensor)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw new SafetensorsException(SafetensorsErrorKind.InvalidHeaderDeserialization, path,
                $"a string is not valid Unicode: {e.Message}", tensor, null, e);
        }
    }

    private static bool TryMultiply(ulong a, ulong b, out ulong product)
    {
        var high = Math.BigMul(a, b, out product);
        return high == 0;
    }

    /// <summary>The first duplicated key, found by re-reading leniently; null when there is none (or the JSON is
    /// invalid for another reason).</summary>
    private static (string Key, string? Tensor, string Where)? FindDuplicate(byte[] bytes)
    {
        try
        {
            using var document = JsonDocument.Parse(bytes, LenientJson);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return FirstDuplicateKey(root) is { } nested ? (nested, null, "the header") : null;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    return (property.Name, property.Name == MetadataKey ? null : property.Name, "the header");
            }
            foreach (var property in root.EnumerateObject())
            {
                if (FirstDuplicateKey(property.Value) is { } key)
                    return property.Name == MetadataKey
                        ? (key, null, MetadataKey)
                        : (key, property.Name, "the tensor entry");
            }
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static string? FirstDuplicateKey(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                if (FirstDuplicateKey(item) is { } found)
                    return found;
            }
        }
        else if (element.ValueKind == JsonValueKind.Object)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in element.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    return property.Name;
                if (FirstDuplicateKey(property.Value) is { } found)
                    return found;
            }
        }
        return null;
    }

    private static long FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        var i = 0;
        while (i < bytes.Length)
        {
            if (Rune.DecodeFromUtf8(bytes[i..], out _, out var consumed) != OperationStatus.Done)
                return i;
            i += consumed;
        }
        return i;
    }

    private static long? JsonErrorOffset(byte[] bytes, JsonException e)
    {
        if (e.LineNumber is not long line || e.BytePositionInLine is not long column)
            return null;
        long lineStart = 0;
        for (long seen = 0; seen < line; seen++)
        {
            var next = Array.IndexOf(bytes, (byte)'\n', (int)lineStart);
            if (next < 0)
                return null;
            lineStart = next + 1;
        }
        return 8 + Math.Min(lineStart + column, bytes.Length);
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";

    private sealed record RawEntry(string Name, SafetensorsDType DType, ulong[] Shape, ulong Begin, ulong End);
}
