// Hostile model files built from the real fixtures: truncated at every offset of the first 4 KB and sampled
// after, bytes flipped, length fields rewritten. Loading must either raise SentencePieceFormatException or give a
// model that encodes and decodes without throwing; no other exception type, no hang.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CoLT5.Model.Tokenization.SentencePiece;
using Xunit;

namespace CoLT5.Tests.Tokenization;

public sealed class SentencePieceHostileFileTests
{
    private static readonly string[] SmokeTexts =
        ["Hello world", "  tab\tand\nnewline  ", "漢字 🙂 café ﬁ ①", "<sep> x <sep>", "", "\u0000\uD800"];

    public static TheoryData<string> Stems() => new(SentencePieceFixtureTests.ModelStems());

    [Theory]
    [MemberData(nameof(Stems))]
    public void TruncatedFilesAreRejectedOrStillWork(string stem)
    {
        var bytes = File.ReadAllBytes(SentencePieceFixtureTests.ModelPath(stem));
        var cuts = Enumerable.Range(0, Math.Min(4096, bytes.Length))
            .Concat(Enumerable.Range(0, bytes.Length / 509).Select(i => 4096 + i * 509))
            .Concat(Enumerable.Range(bytes.Length - 64, 64))
            .Where(n => n >= 0 && n < bytes.Length).Distinct().ToArray();
        var rejected = 0;
        foreach (var n in cuts)
            rejected += LoadsOrRejects(bytes.AsSpan(0, n).ToArray(), $"{stem} cut at {n}") ? 0 : 1;
        // Only cuts at a field boundary with every required piece present can load.
        Assert.True(rejected > cuts.Length * 9 / 10, $"only {rejected} of {cuts.Length} truncations were rejected");
    }

    [Theory]
    [MemberData(nameof(Stems))]
    public void FlippedBytesAreRejectedOrStillWork(string stem)
    {
        var original = File.ReadAllBytes(SentencePieceFixtureTests.ModelPath(stem));
        var rng = new Random(stem.Length * 7919 + original.Length);
        for (var trial = 0; trial < 250; trial++)
        {
            var bytes = (byte[])original.Clone();
            // Half the flips hit the piece table and specs (the first 16 KB), half anywhere.
            var limit = trial % 2 == 0 ? Math.Min(16384, bytes.Length) : bytes.Length;
            var flips = 1 + rng.Next(3);
            var where = new List<int>();
            for (var f = 0; f < flips; f++)
            {
                var at = rng.Next(limit);
                bytes[at] ^= (byte)(1 + rng.Next(255));
                where.Add(at);
            }
            LoadsOrRejects(bytes, $"{stem} flipped at {string.Join(",", where)}");
        }
    }

    [Theory]
    [MemberData(nameof(Stems))]
    public void CorruptedLengthFieldsAreRejectedOrStillWork(string stem)
    {
        var bytes = File.ReadAllBytes(SentencePieceFixtureTests.ModelPath(stem));
        var fields = LengthFields(bytes, 0, bytes.Length, depth: 0).ToList();
        Assert.True(fields.Count > 100, "expected the piece messages and the specs");
        var picked = fields.Where((_, i) => i < 40 || i % 37 == 0 || i >= fields.Count - 20).ToList();
        ulong[] replacements = [0, 1, 0x7F, 0x7FFFFFFF, 0xFFFFFFFF, 1UL << 40, ulong.MaxValue];
        foreach (var (varintAt, varintLength, length) in picked)
        {
            foreach (var value in replacements.Append(length + 1).Append(length == 0 ? 0 : length - 1))
            {
                var corrupted = bytes[..varintAt].Concat(Varint(value))
                    .Concat(bytes[(varintAt + varintLength)..]).ToArray();
                LoadsOrRejects(corrupted, $"{stem} length at {varintAt} set to {value}");
            }
        }
    }

    /// <summary>Returns true when the bytes loaded (and were exercised), false when they were rejected.</summary>
    private static bool LoadsOrRejects(byte[] bytes, string what)
    {
        SentencePieceProcessor sp;
        try
        {
            sp = SentencePieceProcessor.FromBytes(bytes, what);
        }
        catch (SentencePieceFormatException e)
        {
            Assert.Contains(what, e.Message, StringComparison.Ordinal);
            return false;
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} instead of SentencePieceFormatException: {e.Message}");
            throw;
        }
        try
        {
            foreach (var text in SmokeTexts)
            {
                var pieces = sp.EncodeWithOffsets(text);
                sp.Decode(pieces.Select(p => p.Id).ToArray());
                sp.Normalize(text);
            }
            sp.Decode(Enumerable.Range(0, sp.PieceCount).ToArray());
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: loaded, then {e.GetType().Name}: {e.Message}");
        }
        return true;
    }

    /// <summary>Length-delimited fields of the message in [start, end): where each length varint sits, its size
    /// and value. Recurses into the top-level messages (pieces, specs).</summary>
    private static IEnumerable<(int At, int Size, ulong Length)> LengthFields(byte[] b, int start, int end, int depth)
    {
        var pos = start;
        while (pos < end)
        {
            var tag = ReadVarint(b, ref pos);
            switch (tag & 7)
            {
                case 0: ReadVarint(b, ref pos); break;
                case 1: pos += 8; break;
                case 5: pos += 4; break;
                case 2:
                    var at = pos;
                    var length = ReadVarint(b, ref pos);
                    yield return (at, pos - at, length);
                    if (depth == 0 && (tag >> 3) is 2 or 3)
                        foreach (var inner in LengthFields(b, pos, pos + (int)length, depth + 1))
                            yield return inner;
                    pos += (int)length;
                    break;
                default: throw new InvalidDataException("fixture uses groups");
            }
        }
    }

    private static ulong ReadVarint(byte[] b, ref int pos)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var x = b[pos++];
            value |= (ulong)(x & 0x7F) << shift;
            if (x < 0x80)
                return value;
        }
    }

    private static byte[] Varint(ulong value)
    {
        var list = new List<byte>();
        while (value >= 0x80)
        {
            list.Add((byte)(value | 0x80));
            value >>= 7;
        }
        list.Add((byte)value);
        return [.. list];
    }
}
