// Reads the protobuf wire format by hand: tags, varints (10-byte negatives included), fixed32/fixed64,
// length-delimited slices, and skipping unknown fields of every wire type. Every error names the absolute offset.
using System;
using System.Buffers.Binary;
using System.Text;

namespace CoLT5.Model.Tokenization.SentencePiece;

/// <summary>Protobuf wire types (the low three bits of a tag).</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

/// <summary>
/// A forward-only cursor over one protobuf message. Sub-messages are read through <see cref="ReadMessage"/>,
/// which returns a reader over exactly the embedded bytes, keeping absolute file offsets for error messages.
/// </summary>
internal ref struct ProtoWireReader
{
    private const int MaxGroupDepth = 100;   // protobuf's default recursion limit

    private readonly ReadOnlySpan<byte> data;
    private readonly long baseOffset;
    private readonly string source;
    private int position;

    public ProtoWireReader(ReadOnlySpan<byte> data, string source, long baseOffset = 0)
    {
        this.data = data;
        this.source = source;
        this.baseOffset = baseOffset;
        position = 0;
    }

    /// <summary>True when every byte of this message has been read.</summary>
    public readonly bool AtEnd => position >= data.Length;

    /// <summary>Absolute file offset of the next byte.</summary>
    public readonly long Offset => baseOffset + position;

    /// <summary>Reads a field tag: its number (≥ 1) and wire type (0, 1, 2, 3, 4 or 5).</summary>
    public (int Field, WireType Wire) ReadTag()
    {
        var at = Offset;
        var tag = ReadVarint();
        if (tag > uint.MaxValue)
            throw Error(at, $"field tag {tag} does not fit in 32 bits");
        var wire = (int)(tag & 7);
        var field = (long)(tag >> 3);
        if (field == 0)
            throw Error(at, "field number 0 is not allowed");
        if (wire > 5)
            throw Error(at, $"field {field} has invalid wire type {wire}");
        return ((int)field, (WireType)wire);
    }

    /// <summary>Reads a base-128 varint of at most 10 bytes.</summary>
    public ulong ReadVarint()
    {
        var at = Offset;
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= data.Length)
                throw Error(at, "varint runs past the end of the message");
            var b = data[position++];
            if (shift == 63 && b > 1)
                throw Error(at, "varint is longer than 64 bits");
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
                return value;
        }
        throw Error(at, "varint is longer than 10 bytes");
    }

    /// <summary>Reads an int32 field: a varint truncated to 32 bits, as protobuf does (−1 arrives as 10
    /// bytes).</summary>
    public int ReadInt32() => unchecked((int)ReadVarint());

    /// <summary>Reads a bool field (any non-zero varint is true).</summary>
    public bool ReadBool() => ReadVarint() != 0;

    /// <summary>Reads a little-endian fixed32 as a float.</summary>
    public float ReadFloat()
    {
        if (data.Length - position < 4)
            throw Error(Offset, "fixed32 runs past the end of the message");
        var bits = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(position, 4));
        position += 4;
        return BitConverter.UInt32BitsToSingle(bits);
    }

    /// <summary>Reads a length-delimited field's bytes, checking the length against what remains.</summary>
    public ReadOnlySpan<byte> ReadBytes(out long startOffset)
    {
        var at = Offset;
        var length = ReadVarint();
        if (length > (ulong)(data.Length - position))
            throw Error(at, $"length {length} runs past the end of the message ({data.Length - position} bytes left)");
        startOffset = Offset;
        var slice = data.Slice(position, (int)length);
        position += (int)length;
        return slice;
    }

    /// <summary>Reads a length-delimited field as strict UTF-8 text.</summary>
    public string ReadString(string what)
    {
        var bytes = ReadBytes(out var start);
        return DecodeUtf8(bytes, start, what);
    }

    /// <summary>Reads an embedded message and returns a reader over exactly its bytes.</summary>
    public ProtoWireReader ReadMessage()
    {
        var bytes = ReadBytes(out var start);
        return new ProtoWireReader(bytes, source, start);
    }

    /// <summary>Skips the value of a field of the given wire type (groups are skipped to their end tag).</summary>
    public void Skip(int field, WireType wire)
    {
        switch (wire)
        {
            case WireType.Varint:
                ReadVarint();
                break;
            case WireType.Fixed64:
                Advance(8, "fixed64");
                break;
            case WireType.Fixed32:
                Advance(4, "fixed32");
                break;
            case WireType.LengthDelimited:
                ReadBytes(out _);
                break;
            case WireType.StartGroup:
                SkipGroup(field);
                break;
            default:
                throw Error(Offset, $"unexpected end-group tag for field {field}");
        }
    }

    /// <summary>Fails unless <paramref name="actual"/> is the wire type the schema gives field
    /// <paramref name="field"/>.</summary>
    public readonly void Expect(int field, WireType actual, WireType expected, long tagOffset, string name)
    {
        if (actual != expected)
            throw Error(tagOffset, $"field {field} ({name}) has wire type {(int)actual}, expected {(int)expected}");
    }

    /// <summary>Builds the typed error for a position in this file.</summary>
    public readonly SentencePieceFormatException Error(long offset, string detail) => new(source, offset, detail);

    private void Advance(int count, string what)
    {
        if (data.Length - position < count)
            throw Error(Offset, $"{what} runs past the end of the message");
        position += count;
    }

    private void SkipGroup(int field)
    {
        // Iterative so that deeply nested hostile groups cannot overflow the stack.
        Span<int> open = stackalloc int[MaxGroupDepth];
        var depth = 0;
        open[depth++] = field;
        while (depth > 0)
        {
            var at = Offset;
            if (AtEnd)
                throw Error(at, $"group for field {open[depth - 1]} is not closed");
            var (inner, wire) = ReadTag();
            if (wire == WireType.EndGroup)
            {
                if (inner != open[depth - 1])
                    throw Error(at, $"end-group tag for field {inner} closes group {open[depth - 1]}");
                depth--;
            }
            else if (wire == WireType.StartGroup)
            {
                if (depth == MaxGroupDepth)
                    throw Error(at, $"groups nest deeper than {MaxGroupDepth}");
                open[depth++] = inner;
            }
            else
            {
                Skip(inner, wire);
            }
        }
    }

    private readonly string DecodeUtf8(ReadOnlySpan<byte> bytes, long start, string what)
    {
        if (!Utf8Rules.IsValid(bytes, out var bad))
            throw Error(start + bad, $"{what} is not valid UTF-8");
        return Encoding.UTF8.GetString(bytes);
    }
}
