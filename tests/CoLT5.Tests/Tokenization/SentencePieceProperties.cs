// Properties of the SentencePiece encoder on random Unicode (lone surrogates, controls, CJK, emoji, combining
// marks, every kind of whitespace): it never throws, pieces spell the normalised text, offsets are consistent,
// and decoding inverts encoding up to the library's whitespace rules.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using CoLT5.Model.Tokenization.SentencePiece;
using CoLT5.Tests.Testing;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Tokenization;

public sealed class SentencePieceProperties
{
    private static readonly string[] Atoms =
    [
        "a", "e", "t", "the", "The", " ", "  ", "\t", "\n", "\u3000", "\u00A0", "\u200B", "\u2581", ".", ",", "<sep>",
        "<unk>", "</s>", "é", "e\u0301", "ﬁ", "Ⅻ", "①", "㎏", "ＡＢ", "漢字", "🙂", "👍🏽", "\u0000", "\u0007", "\uFFFD",
        "\uD800", "\uDC00", "ß", "ｶﾞ", "\u1100\u1161", "1,000", "<extra_id_0>",
    ];

    private static readonly Lazy<SentencePieceProcessor[]> Models = new(() =>
        SentencePieceFixtureTests.ModelStems()
            .Select(s => SentencePieceProcessor.Load(SentencePieceFixtureTests.ModelPath(s))).ToArray());

    private static SentencePieceProcessor ByName(string stem) =>
        Models.Value.Single(m => m.Proto.Source.EndsWith(stem + ".model", StringComparison.Ordinal));

    /// <summary>Random text: interesting atoms mixed with arbitrary code points (surrogate values stay lone).</summary>
    private static Gen<string> Text(params string[] exclude) =>
        Gen.OneOf(Gen.Elements(Atoms.Except(exclude).ToArray()),
                Gen.Choose(0, 0x10FFFF).Select(cp => cp is >= 0xD800 and < 0xE000 ? ((char)cp).ToString()
                    : char.ConvertFromUtf32(cp)))
            .ArrayOf().Select(string.Concat);

    [Fact]
    public void EncodingNeverThrowsAndPiecesSpellTheNormalisedText() => Props.Check(Text(), text =>
    {
        foreach (var sp in Models.Value)
        {
            var pieces = sp.EncodeWithOffsets(text);
            var normalized = sp.Normalize(text);
            Assert.Equal(normalized, Spell(sp, pieces));
            Assert.All(pieces, p => Assert.InRange(p.Id, 0, sp.PieceCount - 1));
            Assert.Equal(pieces.Select(p => p.Id), sp.EncodeAsIds(text));
            sp.Decode(pieces.Select(p => p.Id).ToArray());
        }
    });

    [Fact]
    public void OffsetsAreOrderedInsideTheTextAndSurfacesAreTheirSpans() => Props.Check(Text(), text =>
    {
        var utf8Length = Encoding.UTF8.GetByteCount(text);
        var codePoints = CountCodePoints(text);
        foreach (var sp in Models.Value)
        {
            var previousEnd = 0;
            foreach (var p in sp.EncodeWithOffsets(text))
            {
                Assert.InRange(p.Utf8Begin, previousEnd, p.Utf8End);
                Assert.InRange(p.Utf8End, 0, utf8Length);
                Assert.InRange(p.CodePointEnd, p.CodePointBegin, codePoints);
                Assert.InRange(p.Utf16End, p.Utf16Begin, text.Length);
                if (p.Surface.Length > 0)
                    Assert.Equal(text[p.Utf16Begin..p.Utf16End], p.Surface);
                previousEnd = p.Utf8Begin;
            }
        }
    });

    [Fact]
    public void ByteFallbackDecodesToTheNormalisedTextWithSpacesRestored() =>
        // Every character survives byte fallback, so decode(encode(x)) is the normalised text with U+2581 as a
        // space and the dummy prefix dropped. (Literal U+2581 in the input is excluded: the decoder cannot tell it
        // from an escaped space and strips leading ones differently depending on the segmentation.)
        Props.Check(Text("\u2581"), text =>
        {
            var sp = ByName("bytefallback_unigram_600");
            var expected = sp.Normalize(text).Replace('\u2581', ' ');
            if (expected.Length > 0)
            {
                Assert.Equal(' ', expected[0]);               // the dummy prefix
                expected = expected[1..];
            }
            Assert.Equal(expected, sp.Decode(sp.EncodeAsIds(text)));
        });

    [Fact]
    public void IdentityModelRoundTripsTextOverItsAlphabet()
    {
        // No normalisation, no dummy prefix, whitespace kept: decode(encode(x)) == x for text made of characters
        // the model knows.
        var sp = ByName("identity_nodummy_unigram_500");
        var alphabet = Enumerable.Range(0, sp.PieceCount)
            .Where(id => sp.TypeOf(id) == SentencePieceType.Normal)
            .Select(sp.IdToPiece).Where(p => p.Length == 1 && p != "\u2581").Append(" ").ToArray();
        Assert.True(alphabet.Length > 40, "the identity model should know most ASCII characters");
        Props.Check(Gen.Elements(alphabet).ArrayOf().Select(string.Concat), text =>
            Assert.Equal(text, sp.Decode(sp.EncodeAsIds(text))));
    }

    [Fact]
    public void UnknownRunsDecodeToTheUnknownSurface() => Props.Check(Text("\u2581"), text =>
    {
        // Without byte fallback each (merged) unknown piece decodes to " ⁇ " and everything else to its text.
        var sp = ByName("t5like_unigram_500");
        var pieces = sp.EncodeWithOffsets(text);
        var expected = new StringBuilder();
        foreach (var p in pieces)
            expected.Append(p.Id == sp.UnkId ? " \u2047 " : p.Piece.Replace('\u2581', ' '));
        var decoded = sp.Decode(pieces.Select(p => p.Id).ToArray());
        var full = expected.ToString();
        // The decoder drops the dummy prefix: the first space of the first visible piece.
        Assert.Equal(full.StartsWith(' ') && pieces[0].Id != sp.UnkId ? full[1..] : full, decoded);
        Assert.DoesNotContain(pieces.Zip(pieces.Skip(1)),
            pair => pair.First.Id == sp.UnkId && pair.Second.Id == sp.UnkId);
    });

    private static string Spell(SentencePieceProcessor sp, IEnumerable<EncodedPiece> pieces)
    {
        var bytes = new List<byte>();
        foreach (var p in pieces)
        {
            if (sp.TypeOf(p.Id) == SentencePieceType.Byte)
                bytes.Add(byte.Parse(p.Piece.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            else
                bytes.AddRange(Encoding.UTF8.GetBytes(p.Piece));
        }
        return Encoding.UTF8.GetString([.. bytes]);
    }

    private static int CountCodePoints(string text)
    {
        var count = 0;
        for (var i = 0; i < text.Length; i += char.IsSurrogatePair(text, i) ? 2 : 1)
            count++;
        return count;
    }
}
