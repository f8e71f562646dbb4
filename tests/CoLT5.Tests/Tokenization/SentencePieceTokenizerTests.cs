// SentencePieceTokenizer as an ITokenizer: the T5 id layout with 100 sentinels above the model's pieces,
// Decode's conventions (stop at EOS, skip pad and −100, sentinels as <extra_id_N>), opt-in sentinel parsing,
// loading from a path, a stream or bytes, and linear-time encoding of long inputs.
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using CoLT5.Model.Tokenization;
using CoLT5.Model.Tokenization.SentencePiece;
using Xunit;

namespace CoLT5.Tests.Tokenization;

public sealed class SentencePieceTokenizerTests
{
    private static readonly Lazy<SentencePieceTokenizer> T5 = new(() =>
        SentencePieceTokenizer.Load(SentencePieceFixtureTests.ModelPath("t5like_unigram_500")));

    [Fact]
    public void T5LayoutModelsGetOneHundredSentinelsOnTop()
    {
        var tok = T5.Value;
        Assert.Equal((0, 1, 2), (tok.PadId, tok.EosId, tok.UnkId));
        Assert.Equal(100, tok.SentinelCount);
        Assert.Equal(600, tok.VocabSize);
        Assert.Equal(599, tok.Sentinel(0));
        Assert.Equal(500, tok.Sentinel(99));
        Assert.True(tok.IsSentinel(500));
        Assert.False(tok.IsSentinel(499));
        Assert.Equal(42, tok.SentinelIndex(tok.Sentinel(42)));
        Assert.Throws<ArgumentOutOfRangeException>(() => tok.Sentinel(100));
        Assert.Throws<ArgumentOutOfRangeException>(() => tok.SentinelIndex(3));
    }

    [Fact]
    public void OtherLayoutsGetNoSentinelsUnlessAsked()
    {
        var path = SentencePieceFixtureTests.ModelPath("bytefallback_unigram_600");
        var plain = SentencePieceTokenizer.Load(path);
        Assert.Equal((-1, 2, 0), (plain.PadId, plain.EosId, plain.UnkId));
        Assert.Equal(0, plain.SentinelCount);
        Assert.Equal(600, plain.VocabSize);
        var withSentinels = SentencePieceTokenizer.Load(path, sentinelCount: 3);
        Assert.Equal(603, withSentinels.VocabSize);
        Assert.Equal(602, withSentinels.Sentinel(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SentencePieceTokenizer.Load(path, sentinelCount: -1));
    }

    [Fact]
    public void EncodeMatchesTheProcessorAndAppendsEosOnRequest()
    {
        var tok = T5.Value;
        var ids = tok.Processor.EncodeAsIds("Hello world");
        Assert.Equal(ids, tok.Encode("Hello world"));
        Assert.Equal(ids.Append(1), tok.Encode("Hello world", appendEos: true));
        Assert.Equal([1], tok.Encode("", appendEos: true));
        var noEos = new SentencePieceTokenizer(SentencePieceProcessor.FromBytes(
            SentencePieceModelWriter.BuildModel([SentencePieceModelWriter.Piece("<unk>", 0, 2),
                SentencePieceModelWriter.Piece("a", -1)])));
        Assert.Equal(-1, noEos.EosId);
        Assert.Throws<InvalidOperationException>(() => noEos.Encode("a", appendEos: true));
    }

    [Fact]
    public void DecodeStopsAtEosSkipsPadAndIgnoreIndexAndWritesSentinels()
    {
        var tok = T5.Value;
        var the = tok.Processor.PieceToId("\u2581the");
        Assert.Equal("the the", tok.Decode([0, the, TokenConventions.IgnoreIndex, the, 1, the]));
        Assert.Equal("the<extra_id_0> the<extra_id_99>",
            tok.Decode([the, tok.Sentinel(0), the, tok.Sentinel(99)]));
        Assert.Equal("<extra_id_5> the", tok.Decode([tok.Sentinel(5), the]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tok.Decode([600]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tok.Decode([-1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tok.Processor.Decode([500]));
    }

    [Fact]
    public void SentinelSpellingsAreTextUnlessInterpretationIsOn()
    {
        var literal = T5.Value;
        Assert.DoesNotContain(literal.Encode("a <extra_id_0> b"), literal.IsSentinel);
        var parsing = SentencePieceTokenizer.Load(SentencePieceFixtureTests.ModelPath("t5like_unigram_500"),
            interpretSentinels: true);
        var ids = parsing.Encode("The <extra_id_0> cat <extra_id_12><extra_id_100> <extra_id_01>");
        Assert.Equal(2, ids.Count(parsing.IsSentinel));
        Assert.Equal(
            [.. parsing.Processor.EncodeAsIds("The "), parsing.Sentinel(0), .. parsing.Processor.EncodeAsIds(" cat "),
                parsing.Sentinel(12), .. parsing.Processor.EncodeAsIds("<extra_id_100> <extra_id_01>")],
            ids);
    }

    [Fact]
    public void LoadsFromAStreamAndFromBytesAlike()
    {
        var path = SentencePieceFixtureTests.ModelPath("bytefallback_unigram_600");
        var bytes = File.ReadAllBytes(path);
        using var stream = new MemoryStream(bytes);
        var fromStream = SentencePieceTokenizer.Load(stream);
        var fromBytes = SentencePieceTokenizer.FromBytes(bytes);
        const string text = "<sep> café 🙂 done";
        Assert.Equal(fromBytes.Encode(text), fromStream.Encode(text));
        Assert.Equal(["\u2581", "<sep>"], fromBytes.EncodeAsPieces("<sep>"));
        Assert.Equal("\u2581caf\u00E9", fromBytes.Normalize("  cafe\u0301 "));
        var offsets = fromBytes.EncodeWithOffsets("  cafe\u0301");
        Assert.Equal(7, offsets[^1].Utf16End);                   // the combining mark is covered
    }

    [Fact]
    public void EncodingTimeGrowsLinearlyWithInputLength()
    {
        var sp = T5.Value.Processor;
        var unit = string.Concat(Enumerable.Repeat(
            "This program is free software; you can redistribute it. 漢字 ", 10));
        var small = string.Concat(Enumerable.Repeat(unit, 20));
        var large = string.Concat(Enumerable.Repeat(unit, 400));
        sp.EncodeAsIds(small);                                     // warm up
        var tSmall = Time(() => sp.EncodeAsIds(small));
        var tLarge = Time(() => sp.EncodeAsIds(large));
        Assert.True(tLarge < tSmall * 20 * 4 + 50, $"20x input took {tLarge:F1} ms vs {tSmall:F1} ms");
        Assert.Equal(sp.EncodeAsIds(unit).Length * 400, sp.EncodeAsIds(large).Length);
    }

    private static double Time(Action action)
    {
        var best = double.MaxValue;
        for (var i = 0; i < 3; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            best = Math.Min(best, sw.Elapsed.TotalMilliseconds);
        }
        return best;
    }
}
