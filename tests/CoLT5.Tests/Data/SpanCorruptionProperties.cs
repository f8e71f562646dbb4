// Span corruption invariants as properties: noise counts, alternation from non-noise, one sentinel per span,
// sentinels distinct and counting down, and inputs + targets reconstructing the original exactly.
using System;
using System.Collections.Generic;
using System.Linq;
using CoLT5.Model.Data;
using CoLT5.Model.Tokenization;
using CoLT5.Tensors.Random;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Data;

public sealed class SpanCorruptionProperties
{
    // Enough sentinels for any generated case (at most ~300 spans).
    private static readonly ByteTokenizer Tok = new(extraIds: 1000);

    public sealed record Case(int Length, double Density, double Mean, ulong Seed)
    {
        public SpanCorruption Task => new(Density, Mean);

        public int[] Tokens()
        {
            var rng = new Generator(Seed ^ 0xABCDEF);
            return [.. Enumerable.Range(0, Length).Select(_ => ByteTokenizer.ByteId((byte)rng.NextInt(256)))];
        }
    }

    private static readonly Gen<Case> Cases =
        from length in Gen.Frequency((3, Gen.Choose(2, 64)), (2, Gen.Choose(65, 700)))
        from density in Gen.OneOf(Gen.Elements(0.01, 0.05, 0.15, 0.3, 0.5, 0.7, 0.95),
            Gen.Choose(1, 99).Select(p => p / 100.0))
        from mean in Gen.OneOf(Gen.Elements(1.0, 2.0, 3.0, 8.0, 64.0), Gen.Choose(10, 400).Select(m => m / 10.0))
        from seed in Gen.Choose(0, int.MaxValue)
        select new Case(length, density, mean, (ulong)seed);

    /// <summary>Maximal runs of equal mask values: (is noise, length).</summary>
    private static List<(bool Noise, int Length)> Runs(bool[] mask)
    {
        var runs = new List<(bool, int)>();
        for (var i = 0; i < mask.Length;)
        {
            var j = i;
            while (j < mask.Length && mask[j] == mask[i])
                j++;
            runs.Add((mask[i], j - i));
            i = j;
        }
        return runs;
    }

    [Fact]
    public void NoiseCountFollowsTheSpec() => DataProps.Check(Cases, c =>
    {
        var mask = c.Task.NoiseMask(c.Length, new Generator(c.Seed));
        var expected = (int)Math.Clamp(Math.Round(c.Length * c.Density, MidpointRounding.ToEven), 1, c.Length - 1);
        var counts = c.Task.Counts(c.Length);
        return mask.Length == c.Length && mask.Count(m => m) == expected && counts.NoiseTokens == expected
            && counts.NonNoiseTokens == c.Length - expected;
    });

    [Fact]
    public void SpansAlternateStartingWithNonNoise() => DataProps.Check(Cases, c =>
    {
        var mask = c.Task.NoiseMask(c.Length, new Generator(c.Seed));
        var runs = Runs(mask);
        var counts = c.Task.Counts(c.Length);
        var expectedSpans = Math.Min(
            Math.Max(1, (int)Math.Round(counts.NoiseTokens / c.Mean, MidpointRounding.ToEven)),
            Math.Min(counts.NoiseTokens, counts.NonNoiseTokens));
        return !runs[0].Noise && runs[^1].Noise && runs.Count == 2 * counts.Spans && counts.Spans == expectedSpans
            && runs.Select((r, i) => r.Noise == (i % 2 == 1)).All(ok => ok);
    });

    [Fact]
    public void EveryNoiseSpanBecomesExactlyOneSentinelCountingDown() => DataProps.Check(Cases, c =>
    {
        var tokens = c.Tokens();
        var example = c.Task.Apply(tokens, Tok, new Generator(c.Seed));
        var counts = c.Task.Counts(c.Length);
        var inputSentinels = example.InputIds.Where(Tok.IsSentinel).ToArray();
        var targetSentinels = example.TargetIds.Where(Tok.IsSentinel).ToArray();
        var expected = Enumerable.Range(0, counts.Spans).Select(Tok.Sentinel).ToArray();
        return inputSentinels.SequenceEqual(expected) && targetSentinels.SequenceEqual(expected)
            && expected.Distinct().Count() == expected.Length
            && expected.Zip(expected.Skip(1)).All(p => p.Second == p.First - 1)
            && example.InputIds.Length == counts.InputLength && example.TargetIds.Length == counts.TargetLength
            && example.InputIds[^1] == Tok.EosId && example.TargetIds[^1] == Tok.EosId
            && example.TargetIds[0] == Tok.Sentinel(0)
            && example.InputIds.Count(id => id == Tok.EosId) == 1
            && example.TargetIds.Count(id => id == Tok.EosId) == 1;
    });

    [Fact]
    public void InterleavingInputsAndTargetsReconstructsTheOriginal() => DataProps.Check(Cases, c =>
    {
        var tokens = c.Tokens();
        var example = c.Task.Apply(tokens, Tok, new Generator(c.Seed));
        return Ul2Reconstruction.Restore(example, Tok).SequenceEqual(tokens);
    });

    [Fact]
    public void FromMaskMatchesTheHandExample()
    {
        // tokens a b c d e f g, mask 0 0 1 1 0 1 0 (starts and ends with non-noise; general masks are allowed)
        int[] t = [.. "abcdefg".Select(ch => ByteTokenizer.ByteId((byte)ch))];
        var tok = new ByteTokenizer();
        var ex = SpanCorruption.FromMask(t, [false, false, true, true, false, true, false], tok);
        int s0 = tok.Sentinel(0), s1 = tok.Sentinel(1);
        Assert.Equal([t[0], t[1], s0, t[4], s1, t[6], 1], ex.InputIds);
        Assert.Equal([s0, t[2], t[3], s1, t[5], 1], ex.TargetIds);
    }

    [Fact]
    public void RandomCompositionIsPositiveSumsAndIsUniform()
    {
        DataProps.Check(
            from items in Gen.Choose(1, 500)
            from parts in Gen.Choose(1, items)
            from seed in Gen.Choose(0, int.MaxValue)
            select (items, parts, seed), c =>
            {
                var lengths = SpanCorruption.RandomComposition(c.items, c.parts, new Generator((ulong)c.seed));
                return lengths.Length == c.parts && lengths.All(l => l > 0) && lengths.Sum() == c.items;
            });
        // 5 items in 3 positive parts: C(4, 2) = 6 compositions, each with probability 1/6
        var rng = new Generator(17);
        var histogram = new Dictionary<string, int>();
        const int draws = 12_000;
        for (var i = 0; i < draws; i++)
        {
            var key = string.Join(",", SpanCorruption.RandomComposition(5, 3, rng));
            histogram[key] = histogram.GetValueOrDefault(key) + 1;
        }
        Assert.Equal(6, histogram.Count);
        var sigma = Math.Sqrt(draws * (1 / 6.0) * (5 / 6.0));
        Assert.All(histogram.Values, n => Assert.InRange(n, draws / 6 - 5 * sigma, draws / 6 + 5 * sigma));
    }

    [Fact]
    public void SameSeedSameMask()
    {
        var task = new SpanCorruption(0.15, 3);
        Assert.Equal(task.NoiseMask(1000, new Generator(3)), task.NoiseMask(1000, new Generator(3)));
        Assert.NotEqual(task.NoiseMask(1000, new Generator(3)), task.NoiseMask(1000, new Generator(4)));
    }

    [Fact]
    public void TooFewSentinelsIsAClearError()
    {
        var tokens = Enumerable.Repeat(50, 4550).ToArray();
        var error = Assert.Throws<InvalidOperationException>(
            () => new SpanCorruption(0.15, 3).Apply(tokens, new ByteTokenizer(), new Generator(1)));
        Assert.Contains("227 noise spans", error.Message, StringComparison.Ordinal);
        Assert.Contains("only 125 sentinels", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidSettingsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpanCorruption(0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpanCorruption(1, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpanCorruption(0.15, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpanCorruption(0.15, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpanCorruption(0.15, 3).Counts(1));
    }
}
