// Builds small SentencePiece .model files byte by byte for the parser and hostile-input tests: a protobuf
// writer plus a minimal valid unigram model and a one-rule darts-clone charsmap.
using System;
using System.Collections.Generic;
using System.Text;

namespace CoLT5.Tests.Tokenization;

/// <summary>Writes protobuf wire format.</summary>
internal sealed class ProtoWriter
{
    private readonly List<byte> bytes = [];

    public byte[] ToArray() => [.. bytes];

    public ProtoWriter Tag(int field, int wire) => Varint(((ulong)field << 3) | (uint)wire);

    public ProtoWriter Varint(ulong value)
    {
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }
        bytes.Add((byte)value);
        return this;
    }

    public ProtoWriter Int(int field, long value) => Tag(field, 0).Varint(unchecked((ulong)value));

    public ProtoWriter Float(int field, float value)
    {
        Tag(field, 5);
        bytes.AddRange(BitConverter.GetBytes(value));
        return this;
    }

    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, 2).Varint((ulong)value.Length);
        bytes.AddRange(value);
        return this;
    }

    public ProtoWriter Text(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoWriter Message(int field, ProtoWriter inner) => Bytes(field, inner.ToArray());

    public ProtoWriter Raw(params byte[] raw)
    {
        bytes.AddRange(raw);
        return this;
    }
}

/// <summary>Minimal models: <c>&lt;unk&gt;</c>, <c>&lt;s&gt;</c>, <c>&lt;/s&gt;</c>, then NORMAL pieces.</summary>
internal static class SentencePieceModelWriter
{
    public static ProtoWriter Piece(string text, float score, int type = 1)
    {
        var p = new ProtoWriter().Text(1, text).Float(2, score);
        return type == 1 ? p : p.Int(3, type);
    }

    public static List<ProtoWriter> DefaultPieces() =>
    [
        Piece("<unk>", 0, 2), Piece("<s>", 0, 3), Piece("</s>", 0, 3),
        Piece("\u2581", -1), Piece("a", -2), Piece("b", -2), Piece("\u2581ab", -2.5f), Piece("A", -3),
    ];

    /// <summary>A model with the given pieces, trainer spec and normaliser spec (defaults when null).</summary>
    public static byte[] BuildModel(IEnumerable<ProtoWriter>? pieces = null, ProtoWriter? trainer = null,
        ProtoWriter? normalizer = null)
    {
        var model = new ProtoWriter();
        foreach (var p in pieces ?? DefaultPieces())
            model.Message(1, p);
        model.Message(2, trainer ?? new ProtoWriter().Int(3, 1));
        model.Message(3, normalizer ?? new ProtoWriter().Text(1, "identity"));
        return model.ToArray();
    }

    /// <summary>
    /// A charsmap with one rule, "A" → <paramref name="replacement"/>: root offset 256, the 'A' unit at 256 ^ 0x41
    /// with a leaf whose value unit sits at 321 ^ 512, pointing at <paramref name="value"/> in the string table.
    /// </summary>
    public static byte[] OneRuleCharsmap(string replacement, uint value = 0, uint leafOffsetUnits = 512,
        bool terminate = true)
    {
        var units = new uint[1024];
        units[0] = 256u << 10;                                   // root: children at 256 ^ label
        units[256 ^ 0x41] = (leafOffsetUnits << 10) | 0x100 | 0x41;   // label 'A', has leaf
        if ((321 ^ leafOffsetUnits) < units.Length)
            units[321 ^ leafOffsetUnits] = 0x80000000u | value;     // the leaf's value
        var strings = Encoding.UTF8.GetBytes(replacement + (terminate ? "\0" : ""));
        var blob = new byte[4 + units.Length * 4 + strings.Length];
        BitConverter.GetBytes((uint)(units.Length * 4)).CopyTo(blob, 0);
        for (var i = 0; i < units.Length; i++)
            BitConverter.GetBytes(units[i]).CopyTo(blob, 4 + i * 4);
        strings.CopyTo(blob, 4 + units.Length * 4);
        return blob;
    }
}
