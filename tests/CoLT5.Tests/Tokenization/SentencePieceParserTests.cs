// The hand-written protobuf reader and ModelProto parser on crafted files: proto2 defaults, 10-byte negative
// varints, unknown fields of every wire type skipped, and each kind of malformed or inconsistent model rejected
// with SentencePieceFormatException naming the offset.
using System;
using System.Collections.Generic;
using CoLT5.Model.Tokenization.SentencePiece;
using Xunit;
using static CoLT5.Tests.Tokenization.SentencePieceModelWriter;

namespace CoLT5.Tests.Tokenization;

public sealed class SentencePieceParserTests
{
    [Fact]
    public void AbsentFieldsTakeProto2Defaults()
    {
        var model = new ProtoWriter();
        foreach (var p in DefaultPieces())
            model.Message(1, p);
        var sp = SentencePieceProcessor.FromBytes(model.ToArray(), "defaults");
        var t = sp.Proto.TrainerSpec;
        var n = sp.Proto.NormalizerSpec;
        Assert.Equal(SentencePieceModelType.Unigram, t.ModelType);
        Assert.Equal((0, 1, 2, -1), (t.UnkId, t.BosId, t.EosId, t.PadId));
        Assert.Equal(("<unk>", "<s>", "</s>", "<pad>"), (t.UnkPiece, t.BosPiece, t.EosPiece, t.PadPiece));
        Assert.Equal(" \u2047 ", t.UnkSurface);
        Assert.False(t.HasUnkSurface);
        Assert.False(t.ByteFallback);
        Assert.True(n.AddDummyPrefix && n.RemoveExtraWhitespaces && n.EscapeWhitespaces);
        Assert.True(n.PrecompiledCharsmap.IsEmpty);
        Assert.Equal((0, 1, 2, -1), (sp.UnkId, sp.BosId, sp.EosId, sp.PadId));
        Assert.Equal(SentencePieceType.Normal, sp.TypeOf(4));
        Assert.Equal(["\u2581ab", "\u2581", "A"], sp.EncodeAsPieces("  ab   A "));
        Assert.Equal("ab A", sp.Decode(sp.EncodeAsIds("  ab   A ")));
    }

    [Fact]
    public void NegativeInt32sAsTenByteVarintsAndFiveByteVarints()
    {
        var trainer = new ProtoWriter().Int(3, 1).Int(41, -1).Tag(43, 0).Raw(0xFF, 0xFF, 0xFF, 0xFF, 0x0F);
        var sp = SentencePieceProcessor.FromBytes(BuildModel(trainer: trainer), "varints");
        Assert.Equal(-1, sp.Proto.TrainerSpec.BosId);
        Assert.Equal(-1, sp.Proto.TrainerSpec.PadId);               // 0xFFFFFFFF truncated to int32
    }

    [Fact]
    public void UnknownFieldsOfEveryWireTypeAreSkipped()
    {
        var pieces = DefaultPieces();
        pieces[4] = Piece("a", -2).Int(9, 12345).Tag(10, 1).Raw(1, 2, 3, 4, 5, 6, 7, 8).Float(11, 1f);
        var model = new ProtoWriter()
            .Int(100, -5)                                                  // varint
            .Tag(101, 1).Raw(0, 0, 0, 0, 0, 0, 0, 0)                      // fixed64
            .Text(102, "ignored")                                          // length-delimited
            .Tag(103, 3).Int(1, 7).Tag(104, 3).Tag(104, 4).Tag(103, 4)   // nested groups
            .Tag(105, 5).Raw(1, 2, 3, 4);                                  // fixed32
        foreach (var p in pieces)
            model.Message(1, p);
        model.Message(4, new ProtoWriter().Message(1, new ProtoWriter().Text(1, "x").Text(2, "y")));   // self_test_data
        var sp = SentencePieceProcessor.FromBytes(model.ToArray(), "unknown-fields");
        Assert.Equal(8, sp.PieceCount);
        Assert.Equal(-2f, sp.ScoreOf(4));
    }

    [Fact]
    public void RepeatedSpecMessagesMergeLikeProtobuf()
    {
        var model = new ProtoWriter();
        foreach (var p in DefaultPieces())
            model.Message(1, p);
        model.Message(3, new ProtoWriter().Int(3, 0)).Message(3, new ProtoWriter().Int(5, 0));
        var n = SentencePieceProcessor.FromBytes(model.ToArray(), "merge").Proto.NormalizerSpec;
        Assert.False(n.AddDummyPrefix);
        Assert.False(n.EscapeWhitespaces);
        Assert.True(n.RemoveExtraWhitespaces);
    }

    [Fact]
    public void OtherModelTypesAreRejectedWithTheirName()
    {
        var e = Assert.Throws<SentencePieceUnsupportedModelException>(() =>
            SentencePieceProcessor.FromBytes(BuildModel(trainer: new ProtoWriter().Int(3, 2)), "bpe.model"));
        Assert.Equal("BPE", e.ModelType);
        Assert.Contains("bpe.model", e.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<SentencePieceFormatException>(e);
    }

    public static TheoryData<string, byte[]> MalformedModels()
    {
        var data = new TheoryData<string, byte[]>();
        void Add(string name, byte[] bytes) => data.Add(name, bytes);
        List<ProtoWriter> With(int index, ProtoWriter piece)
        {
            var list = DefaultPieces();
            list[index] = piece;
            return list;
        }
        static byte[] Charsmap(byte[] blob) => BuildModel(normalizer: new ProtoWriter().Bytes(2, blob));
        List<ProtoWriter> Plus(params ProtoWriter[] extra)
        {
            var list = DefaultPieces();
            list.AddRange(extra);
            return list;
        }
        Add("pieces as varint", new ProtoWriter().Int(1, 5).ToArray());
        Add("score as varint", BuildModel(With(4, new ProtoWriter().Text(1, "a").Int(2, 3))));
        Add("piece text as fixed32", BuildModel(With(4, new ProtoWriter().Float(1, 1f))));
        Add("length past the end", new ProtoWriter().Tag(1, 2).Varint(1000).Raw(1, 2, 3).ToArray());
        Add("huge length", new ProtoWriter().Tag(1, 2).Varint(ulong.MaxValue >> 1).ToArray());
        Add("truncated varint", new ProtoWriter().Raw(0x08, 0xFF, 0xFF).ToArray());
        Add("eleven-byte varint",
            new ProtoWriter().Raw(0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01).ToArray());
        Add("wire type 6", new ProtoWriter().Tag(7, 6).ToArray());
        Add("wire type 7", new ProtoWriter().Tag(7, 7).ToArray());
        Add("field number 0", new ProtoWriter().Raw(0x02, 0x00).ToArray());
        Add("stray end group", new ProtoWriter().Tag(9, 4).ToArray());
        Add("unclosed group", new ProtoWriter().Tag(9, 3).Int(1, 1).ToArray());
        Add("mismatched end group", new ProtoWriter().Tag(9, 3).Tag(10, 4).ToArray());
        var deep = new ProtoWriter();
        for (var i = 0; i < 200; i++)
            deep.Tag(9, 3);
        Add("groups nested 200 deep", deep.ToArray());
        Add("truncated fixed32 score", new ProtoWriter().Tag(1, 2).Varint(3).Tag(2, 5).Raw(0, 0).ToArray());
        Add("invalid UTF-8 piece", BuildModel(With(4, new ProtoWriter().Bytes(1, [0x61, 0xC3]))));
        Add("surrogate in piece", BuildModel(With(4, new ProtoWriter().Bytes(1, [0xED, 0xA0, 0x80]))));
        Add("overlong UTF-8 piece", BuildModel(With(4, new ProtoWriter().Bytes(1, [0xC0, 0xAF]))));
        Add("empty piece", BuildModel(With(4, Piece("", -2))));
        Add("NUL in piece", BuildModel(With(4, Piece("a\0b", -2))));
        Add("duplicate normal piece", BuildModel(Plus(Piece("a", -4))));
        Add("duplicate control piece", BuildModel(Plus(Piece("<s>", 0, 3))));
        Add("second unknown piece", BuildModel(Plus(Piece("<unk2>", 0, 2))));
        Add("no unknown piece", BuildModel(With(0, Piece("<unk>", 0, 3))));
        Add("unknown piece type", BuildModel(With(4, Piece("a", -2, 9))));
        Add("unknown model type", BuildModel(trainer: new ProtoWriter().Int(3, 7)));
        Add("byte piece without byte_fallback", BuildModel(Plus(Piece("<0x41>", 0, 6))));
        Add("byte_fallback without byte pieces",
            BuildModel(Plus(Piece("<0x41>", 0, 6)), new ProtoWriter().Int(3, 1).Int(35, 1)));
        Add("malformed byte piece", BuildModel(Plus(Piece("<0x4g>", 0, 6)), new ProtoWriter().Int(3, 1).Int(35, 1)));
        Add("only special pieces", BuildModel([Piece("<unk>", 0, 2), Piece("<s>", 0, 3)]));
        Add("invalid UTF-8 unk_surface", BuildModel(trainer: new ProtoWriter().Int(3, 1).Bytes(44, [0xFF])));
        Add("charsmap of 3 bytes", BuildModel(normalizer: new ProtoWriter().Bytes(2, [1, 0, 0])));
        Add("charsmap trie larger than the blob",
            BuildModel(normalizer: new ProtoWriter().Bytes(2, [0xFF, 0, 0, 0, 1, 2, 3, 4])));
        Add("charsmap trie size not a multiple of 4", Charsmap([3, 0, 0, 0, 1, 2, 3, 4]));
        Add("charsmap value outside the strings", Charsmap(OneRuleCharsmap("b", 1000)));
        Add("charsmap leaf outside the array",
            BuildModel(normalizer: new ProtoWriter().Bytes(2, OneRuleCharsmap("b", 0, leafOffsetUnits: 1u << 20))));
        Add("charsmap string without NUL", Charsmap(OneRuleCharsmap("b", 0, terminate: false)));
        Add("charsmap string not UTF-8", Charsmap(OneRuleCharsmap("\uFFFD", 1)));
        return data;
    }

    [Theory]
    [MemberData(nameof(MalformedModels))]
    public void MalformedModelsRaiseTheTypedExceptionNamingTheSource(string what, byte[] bytes)
    {
        var e = Assert.ThrowsAny<SentencePieceFormatException>(() =>
            SentencePieceProcessor.FromBytes(bytes, "crafted.model"));
        Assert.Contains("crafted.model", e.Message, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(what));
    }

    [Fact]
    public void ErrorsReportTheByteOffset()
    {
        var model = BuildModel(DefaultPieces());
        var bytes = new byte[model.Length + 3];
        model.CopyTo(bytes, 0);
        bytes[model.Length] = 0x0A;          // field 1, length-delimited
        bytes[model.Length + 1] = 0x7F;      // 127 bytes, but only 1 follows
        var e = Assert.Throws<SentencePieceFormatException>(() => SentencePieceProcessor.FromBytes(bytes, "m"));
        Assert.Equal(model.Length + 1, e.Offset);
        Assert.Contains($"at byte {model.Length + 1}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AHandBuiltCharsmapIsAppliedByLongestMatch()
    {
        var sp = SentencePieceProcessor.FromBytes(
            BuildModel(normalizer: new ProtoWriter().Bytes(2, OneRuleCharsmap("b"))), "charsmap");
        Assert.Equal("\u2581bab", sp.Normalize("Aab"));
        var pieces = sp.EncodeWithOffsets("A");
        Assert.Equal(["\u2581", "b"], Array.ConvertAll(pieces, p => p.Piece));
        Assert.Equal("A", pieces[1].Surface);
        // A deleting rule: "A" → "".
        var deleting = SentencePieceProcessor.FromBytes(
            BuildModel(normalizer: new ProtoWriter().Bytes(2, OneRuleCharsmap(""))), "charsmap");
        Assert.Equal("\u2581ab", deleting.Normalize("AabA"));
        Assert.Empty(deleting.EncodeAsIds("AAA"));
    }
}
