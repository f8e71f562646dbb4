// Token surfaces and kinds for the routing summary: byte tokens take their character's kind (multi-byte characters
// on every byte, text on the first), SentencePiece pieces are judged without their ▁, specials are spelled out.
using System.IO;
using System.Linq;
using CoLT5.Model.Analysis;
using CoLT5.Model.Tokenization;
using CoLT5.Model.Tokenization.SentencePiece;
using CoLT5.Tests.Testing;
using Xunit;

namespace CoLT5.Tests.Tokenization;

public sealed class RoutesTokenKindTests
{
    private const TokenKind W = TokenKind.WordStart, O = TokenKind.Other, D = TokenKind.Digits,
        P = TokenKind.Punctuation, S = TokenKind.Whitespace, X = TokenKind.Special;

    [Fact]
    public void ByteTokensTakeTheirCharactersKind()
    {
        var tokenizer = new ByteTokenizer();
        // "Hi, 42nd <é😀>\n" + EOS: é is 2 bytes, 😀 4 bytes
        var ids = tokenizer.Encode("Hi, 42nd <é😀>\n", appendEos: true);
        var surfaces = TokenSurfaces.Describe(tokenizer, ids);
        Assert.Equal(new[] { W, O, P, S, D, D, O, O, S, P, W, W, P, P, P, P, P, S, X },
            surfaces.Select(s => s.Kind));
        Assert.Equal(new[] { "H", "i", ",", " ", "4", "2", "n", "d", " ", "<", "é", "", "😀", "", "", "", ">", "\n",
            "</s>" }, surfaces.Select(s => s.Text));
        Assert.Equal(new[] { 11, 13, 14, 15 }, Enumerable.Range(0, surfaces.Length).Where(i => surfaces[i].Continuation));
    }

    [Fact]
    public void BrokenUtf8AndSpecialIdsOfTheByteLayout()
    {
        var tokenizer = new ByteTokenizer();
        // a lone continuation byte, a truncated 3-byte sequence, pad, unk and a sentinel
        int[] ids = [ByteTokenizer.ByteId(0x80), ByteTokenizer.ByteId(0xE2), ByteTokenizer.ByteId(0x82),
            tokenizer.PadId, tokenizer.UnkId, tokenizer.Sentinel(3), ByteTokenizer.ByteId((byte)'a')];
        var surfaces = TokenSurfaces.Describe(tokenizer, ids);
        Assert.Equal(new[] { O, O, O, X, X, X, W }, surfaces.Select(s => s.Kind));
        Assert.Equal(new[] { "\uFFFD", "\uFFFD", "\uFFFD", "<pad>", "<unk>", "<extra_id_3>", "a" },
            surfaces.Select(s => s.Text));
        Assert.Throws<System.ArgumentOutOfRangeException>(() => TokenSurfaces.Describe(tokenizer, [384]));
    }

    [Fact]
    public void SentencePiecesAreJudgedWithoutTheirWordMark()
    {
        var tokenizer = SentencePieceTokenizer.Load(Path.Combine(FixturePaths.Spm, "t5like_unigram_500.model"));
        // <pad> </s> <unk> ▁ ▁the , s ▁1 1 ▁( - <extra_id_0>
        int[] ids = [0, 1, 2, 3, 5, 6, 4, 128, 149, 43, 63, tokenizer.Sentinel(0)];
        var surfaces = TokenSurfaces.Describe(tokenizer, ids);
        Assert.Equal(new[] { X, X, X, S, W, P, O, D, D, P, P, X }, surfaces.Select(s => s.Kind));
        Assert.Equal(new[] { "<pad>", "</s>", "<unk>", "▁", "▁the", ",", "s", "▁1", "1", "▁(", "-", "<extra_id_0>" },
            surfaces.Select(s => s.Text));
        // an encoded sentence: every piece keeps its text, and a piece starting with ▁ and a letter starts a word
        var encoded = tokenizer.Encode("The cat sat.", appendEos: true);
        var described = TokenSurfaces.Describe(tokenizer, encoded);
        Assert.Equal(encoded[..^1].Select(tokenizer.Processor.IdToPiece), described[..^1].Select(s => s.Text));
        Assert.All(described.Where(s => s.Text.Length > 1 && s.Text[0] == '▁' && char.IsLetter(s.Text[1])),
            s => Assert.Equal(W, s.Kind));
    }

    [Fact]
    public void BytePiecesOfByteFallbackModelsAreOther()
    {
        var tokenizer = SentencePieceTokenizer.Load(Path.Combine(FixturePaths.Spm, "bytefallback_unigram_600.model"));
        var surface = Assert.Single(TokenSurfaces.Describe(tokenizer, [4]));
        Assert.Equal(new TokenSurface("<0x00>", O), surface);
    }

    /// <summary>Any other tokenizer: ids decoded one at a time, a word starting at the input's start, after a
    /// special token, or where the decoded text begins with white space.</summary>
    [Fact]
    public void OtherTokenizersAreReadByDecodingEachId()
    {
        var tokenizer = new WordTokenizer();
        var surfaces = TokenSurfaces.Describe(tokenizer, [3, 7, 4, 5, 6, 9, 7, 1]);
        Assert.Equal(new[] { W, O, W, P, D, X, W, X }, surfaces.Select(s => s.Kind));
        Assert.Equal(new[] { "hello", "lo", " world", "!", " 42", "<extra_id_0>", "lo", "</s>" },
            surfaces.Select(s => s.Text));
    }

    // pad 0, eos 1, unk 2, five words (3–7), an unused id 8, one sentinel (9).
    private sealed class WordTokenizer : ITokenizer
    {
        private static readonly string[] Words = ["hello", " world", "!", " 42", "lo"];

        public int VocabSize => 10;
        public int PadId => 0;
        public int EosId => 1;
        public int UnkId => 2;
        public int SentinelCount => 1;
        public int[] Encode(string text) => throw new System.NotSupportedException("decode-only test tokenizer");
        public int[] Encode(string text, bool appendEos) => Encode(text);
        public string Decode(System.ReadOnlySpan<int> ids) =>
            string.Concat(ids.ToArray().Select(id => id is >= 3 and < 8 ? Words[id - 3] : ""));
        public int Sentinel(int n) => 9 - n;
        public bool IsSentinel(int id) => id == 9;
        public int SentinelIndex(int id) => 9 - id;
    }

    [Theory]
    [InlineData("hello", true, TokenKind.WordStart)]
    [InlineData("hello", false, TokenKind.Other)]
    [InlineData("2024", true, TokenKind.Digits)]
    [InlineData("?!", false, TokenKind.Punctuation)]
    [InlineData("€", true, TokenKind.Punctuation)]
    [InlineData(" \t", false, TokenKind.Whitespace)]
    [InlineData("", false, TokenKind.Whitespace)]
    [InlineData("a1", false, TokenKind.Other)]
    public void KindOfText(string text, bool startsWord, TokenKind expected) =>
        Assert.Equal(expected, TokenSurfaces.KindOfText(text, startsWord));
}
