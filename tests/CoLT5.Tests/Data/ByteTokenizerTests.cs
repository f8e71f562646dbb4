// The byte tokenizer: ByT5 id layout, sentinel numbering, round trips through UTF-8 and lenient decoding.
using System;
using System.Linq;
using System.Text;
using CoLT5.Model.Tokenization;
using CoLT5.Tensors.Random;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Data;

public sealed class ByteTokenizerTests
{
    private static readonly ByteTokenizer Tok = new();

    [Fact]
    public void DefaultLayoutIsByT5()
    {
        Assert.Equal(384, Tok.VocabSize);
        Assert.Equal((0, 1, 2), (Tok.PadId, Tok.EosId, Tok.UnkId));
        Assert.Equal(125, Tok.SentinelCount);
        Assert.Equal(383, Tok.Sentinel(0));
        Assert.Equal(382, Tok.Sentinel(1));
        Assert.Equal(259, Tok.Sentinel(124));
        Assert.Equal(259, Tok.LowestSentinelId);
        Assert.False(Tok.IsSentinel(258));
        Assert.True(Tok.IsSentinel(259));
        Assert.True(Tok.IsSentinel(383));
        Assert.False(Tok.IsSentinel(384));
        Assert.Equal(7, Tok.SentinelIndex(Tok.Sentinel(7)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tok.Sentinel(125));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tok.Sentinel(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tok.SentinelIndex(100));
        Assert.Equal(3, ByteTokenizer.ByteId(0));
        Assert.Equal(258, ByteTokenizer.ByteId(255));
    }

    [Fact]
    public void VocabularyIsPaddedToTheMultipleAndSentinelsStayOnTop()
    {
        var tok = new ByteTokenizer(extraIds: 100);
        Assert.Equal(384, tok.VocabSize);                 // 259 + 100 = 359 → 384
        Assert.Equal(383, tok.Sentinel(0));
        Assert.Equal(284, tok.Sentinel(99));
        Assert.False(tok.IsSentinel(283));
        Assert.Equal("a\uFFFDb", tok.Decode([ByteTokenizer.ByteId((byte)'a'), 270, ByteTokenizer.ByteId((byte)'b')]));
        Assert.Equal(512, new ByteTokenizer(extraIds: 253).VocabSize);
        Assert.Equal(259, new ByteTokenizer(extraIds: 0, vocabMultiple: 1).VocabSize);
    }

    [Fact]
    public void EncodesUtf8BytesPlusThreeAndAppendsEosOnRequest()
    {
        Assert.Equal([107, 108], Tok.Encode("hi"));
        Assert.Equal([107, 108, 1], Tok.Encode("hi", appendEos: true));
        Assert.Equal([0xC3 + 3, 0xA9 + 3], Tok.Encode("é"));
        Assert.Empty(Tok.Encode(""));
        Assert.Equal([1], Tok.Encode("", appendEos: true));
    }

    [Theory]
    [InlineData("Hello, world! 0123456789 ~`{}")]
    [InlineData("héllo wörld — naïve façade")]
    [InlineData("日本語のテキスト, 한국어, Ελληνικά, עברית")]
    [InlineData("emoji 👋🏽 🧪 👩‍👩‍👧‍👦 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢")]
    [InlineData("")]
    [InlineData("tabs\tnew\nlines\r\n")]
    public void RoundTrips(string text)
    {
        Assert.Equal(text, Tok.Decode(Tok.Encode(text)));
        Assert.Equal(text, Tok.Decode(Tok.Encode(text, appendEos: true)));
        Assert.Equal(Encoding.UTF8.GetByteCount(text), Tok.Encode(text).Length);
    }

    [Fact]
    public void RandomScalarValuesRoundTrip() => DataProps.Check(
        Gen.Choose(0, int.MaxValue).Select(s => (ulong)s), seed =>
        {
            var rng = new Generator(seed);
            var sb = new StringBuilder();
            var count = rng.NextInt(40);
            for (var i = 0; i < count; i++)
            {
                var plane = rng.NextInt(4);
                var cp = plane switch
                {
                    0 => rng.NextInt(0x80),
                    1 => 0x80 + rng.NextInt(0x800 - 0x80),
                    2 => 0xE000 + rng.NextInt(0x10000 - 0xE000),
                    _ => 0x10000 + rng.NextInt(0x110000 - 0x10000),
                };
                sb.Append(char.ConvertFromUtf32(cp));
            }
            var text = sb.ToString();
            return Tok.Decode(Tok.Encode(text)) == text;
        });

    [Fact]
    public void DecodeStopsAtEosSkipsPadAndIgnoreIndexAndSpellsSentinels()
    {
        int[] ids = [0, 107, -100, Tok.Sentinel(0), 108, Tok.Sentinel(5), 0, 1, 107, 107];
        Assert.Equal("h<extra_id_0>i<extra_id_5>", Tok.Decode(ids));
        Assert.Equal("\uFFFD", Tok.Decode([Tok.UnkId]));
        Assert.Equal("", Tok.Decode([]));
        Assert.Equal("", Tok.Decode([1, 107]));
    }

    [Fact]
    public void InvalidUtf8DecodesToReplacementCharacters()
    {
        static int[] Bytes(params byte[] b) => [.. b.Select(ByteTokenizer.ByteId)];
        Assert.Equal("h\uFFFDi", Tok.Decode(Bytes(0x68, 0xFF, 0x69)));          // never valid
        Assert.Equal("\uFFFDA", Tok.Decode(Bytes(0xE2, 0x82, 0x41)));           // truncated 3-byte sequence
        Assert.Equal("\uFFFD", Tok.Decode(Bytes(0x80)));                        // lone continuation byte
        Assert.Equal("\uFFFD\uFFFD", Tok.Decode(Bytes(0xC0, 0xAF)));            // overlong encoding
        Assert.Equal("\uFFFD\uFFFD\uFFFD", Tok.Decode(Bytes(0xED, 0xA0, 0x80)));  // encoded surrogate
        // a multi-byte character split by a sentinel decodes as replacement characters around the sentinel
        var euro = Bytes(0xE2, 0x82, 0xAC);
        Assert.Equal("\uFFFD<extra_id_0>\uFFFD", Tok.Decode([euro[0], euro[1], Tok.Sentinel(0), euro[2]]));
    }

    [Fact]
    public void ArbitraryIdSequencesNeverThrow() => DataProps.Check(
        Gen.Choose(-1, Tok.VocabSize - 1).Select(i => i < 0 ? -100 : i).ArrayOf(), ids =>
        {
            var text = Tok.Decode(ids);
            return text is not null;
        });

    [Fact]
    public void IdsOutsideTheVocabularyAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Tok.Decode([107, 384]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tok.Decode([-5]));
    }

    [Fact]
    public void LoneSurrogatesEncodeAsReplacementCharacter()
    {
        Assert.Equal("a\uFFFDb", Tok.Decode(Tok.Encode("a\uD800b")));
    }
}
