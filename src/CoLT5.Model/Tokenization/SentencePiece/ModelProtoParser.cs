// Parses a SentencePiece .model file (a serialized ModelProto) with the hand-written wire reader. Unknown fields
// of any wire type are skipped; a known field with the wrong wire type, an unknown enum value, or anything that
// runs past its bounds raises SentencePieceFormatException with the byte offset.
using System;
using System.Collections.Generic;

namespace CoLT5.Model.Tokenization.SentencePiece;

/// <summary>Builds a <see cref="SentencePieceModelProto"/> from the file's bytes.</summary>
internal static class ModelProtoParser
{
    // ModelProto field numbers.
    private const int PiecesField = 1, TrainerSpecField = 2, NormalizerSpecField = 3, DenormalizerSpecField = 5;

    /// <summary>Parses <paramref name="bytes"/>; <paramref name="source"/> names them in errors.</summary>
    public static SentencePieceModelProto Parse(ReadOnlySpan<byte> bytes, string source)
    {
        var reader = new ProtoWireReader(bytes, source);
        var pieces = new List<SentencePieceEntry>();
        var offsets = new List<long>();
        var trainer = new SentencePieceTrainerSpec();
        var normalizer = new SentencePieceNormalizerSpec();
        SentencePieceNormalizerSpec? denormalizer = null;
        while (!reader.AtEnd)
        {
            var at = reader.Offset;
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case PiecesField:
                    reader.Expect(field, wire, WireType.LengthDelimited, at, "pieces");
                    offsets.Add(reader.Offset);
                    var piece = reader.ReadMessage();
                    pieces.Add(ParsePiece(ref piece));
                    break;
                case TrainerSpecField:
                    reader.Expect(field, wire, WireType.LengthDelimited, at, "trainer_spec");
                    var t = reader.ReadMessage();
                    ParseTrainerSpec(ref t, trainer);
                    break;
                case NormalizerSpecField:
                    reader.Expect(field, wire, WireType.LengthDelimited, at, "normalizer_spec");
                    var n = reader.ReadMessage();
                    ParseNormalizerSpec(ref n, normalizer);
                    break;
                case DenormalizerSpecField:
                    reader.Expect(field, wire, WireType.LengthDelimited, at, "denormalizer_spec");
                    var d = reader.ReadMessage();
                    ParseNormalizerSpec(ref d, denormalizer ??= new SentencePieceNormalizerSpec());
                    break;
                default:
                    reader.Skip(field, wire);   // self_test_data and future fields
                    break;
            }
        }
        return new SentencePieceModelProto(source, pieces, [.. offsets], trainer, normalizer, denormalizer);
    }

    private static SentencePieceEntry ParsePiece(ref ProtoWireReader reader)
    {
        var text = "";
        var score = 0f;
        var type = SentencePieceType.Normal;
        while (!reader.AtEnd)
        {
            var at = reader.Offset;
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case 1:
                    reader.Expect(field, wire, WireType.LengthDelimited, at, "piece");
                    text = reader.ReadString("piece");
                    break;
                case 2:
                    reader.Expect(field, wire, WireType.Fixed32, at, "score");
                    score = reader.ReadFloat();
                    break;
                case 3:
                    reader.Expect(field, wire, WireType.Varint, at, "type");
                    var value = reader.ReadVarint();
                    if (value is < 1 or > 6)
                        throw reader.Error(at, $"piece type {value} is not a known SentencePiece.Type");
                    type = (SentencePieceType)value;
                    break;
                default:
                    reader.Skip(field, wire);
                    break;
            }
        }
        return new SentencePieceEntry(text, score, type);
    }

    private static void ParseTrainerSpec(ref ProtoWireReader reader, SentencePieceTrainerSpec spec)
    {
        while (!reader.AtEnd)
        {
            var at = reader.Offset;
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case 3:
                    reader.Expect(field, wire, WireType.Varint, at, "model_type");
                    var value = reader.ReadVarint();
                    if (value is < 1 or > 4)
                        throw reader.Error(at, $"model_type {value} is not a known TrainerSpec.ModelType");
                    spec.ModelType = (SentencePieceModelType)value;
                    break;
                case 4: spec.VocabSize = Int32(ref reader, field, wire, at, "vocab_size"); break;
                case 24:
                    spec.TreatWhitespaceAsSuffix = Bool(ref reader, field, wire, at, "treat_whitespace_as_suffix");
                    break;
                case 30: spec.ControlList.Add(Text(ref reader, field, wire, at, "control_symbols")); break;
                case 31: spec.UserDefinedList.Add(Text(ref reader, field, wire, at, "user_defined_symbols")); break;
                case 35: spec.ByteFallback = Bool(ref reader, field, wire, at, "byte_fallback"); break;
                case 40: spec.UnkId = Int32(ref reader, field, wire, at, "unk_id"); break;
                case 41: spec.BosId = Int32(ref reader, field, wire, at, "bos_id"); break;
                case 42: spec.EosId = Int32(ref reader, field, wire, at, "eos_id"); break;
                case 43: spec.PadId = Int32(ref reader, field, wire, at, "pad_id"); break;
                case 44:
                    spec.UnkSurface = Text(ref reader, field, wire, at, "unk_surface");
                    spec.HasUnkSurface = true;
                    break;
                case 45: spec.UnkPiece = Text(ref reader, field, wire, at, "unk_piece"); break;
                case 46: spec.BosPiece = Text(ref reader, field, wire, at, "bos_piece"); break;
                case 47: spec.EosPiece = Text(ref reader, field, wire, at, "eos_piece"); break;
                case 48: spec.PadPiece = Text(ref reader, field, wire, at, "pad_piece"); break;
                default: reader.Skip(field, wire); break;
            }
        }
    }

    private static void ParseNormalizerSpec(ref ProtoWireReader reader, SentencePieceNormalizerSpec spec)
    {
        while (!reader.AtEnd)
        {
            var at = reader.Offset;
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case 1: spec.Name = Text(ref reader, field, wire, at, "name"); break;
                case 2:
                    reader.Expect(field, wire, WireType.LengthDelimited, at, "precompiled_charsmap");
                    var bytes = reader.ReadBytes(out var start);
                    spec.PrecompiledCharsmap = bytes.ToArray();
                    spec.CharsmapOffset = start;
                    break;
                case 3: spec.AddDummyPrefix = Bool(ref reader, field, wire, at, "add_dummy_prefix"); break;
                case 4:
                    spec.RemoveExtraWhitespaces = Bool(ref reader, field, wire, at, "remove_extra_whitespaces");
                    break;
                case 5: spec.EscapeWhitespaces = Bool(ref reader, field, wire, at, "escape_whitespaces"); break;
                default: reader.Skip(field, wire); break;
            }
        }
    }

    private static int Int32(ref ProtoWireReader reader, int field, WireType wire, long at, string name)
    {
        reader.Expect(field, wire, WireType.Varint, at, name);
        return reader.ReadInt32();
    }

    private static bool Bool(ref ProtoWireReader reader, int field, WireType wire, long at, string name)
    {
        reader.Expect(field, wire, WireType.Varint, at, name);
        return reader.ReadBool();
    }

    private static string Text(ref ProtoWireReader reader, int field, WireType wire, long at, string name)
    {
        reader.Expect(field, wire, WireType.LengthDelimited, at, name);
        return reader.ReadString(name);
    }
}
