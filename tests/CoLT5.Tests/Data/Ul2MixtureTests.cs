// The UL2 mixture: random_spans_helper lengths from the spec, prefix-LM reconstruction and split-point
// distribution, equal task shares, exact input lengths, mode tokens, and the order-preserving token stream.
using System;
using System.Collections.Generic;
using System.Linq;
using CoLT5.Model.Data;
using CoLT5.Model.Tokenization;
using CoLT5.Tensors.Random;
using FsCheck.Fluent;
using Xunit;

namespace CoLT5.Tests.Data;

/// <summary>Rebuilds the raw chunk an example was made from (span corruption or prefix-LM).</summary>
public static class Ul2Reconstruction
{
    public static int[] Restore(Seq2SeqExample example, ITokenizer tok)
    {
        var inputs = example.InputIds.AsSpan(0, Array.IndexOf(example.InputIds, tok.EosId));
        var targets = example.TargetIds.AsSpan(0, Array.IndexOf(example.TargetIds, tok.EosId));
        if (!inputs.ToArray().Any(tok.IsSentinel))
            return [.. inputs, .. targets];                    // prefix-LM: inputs then continuation
        var spans = new Dictionary<int, List<int>>();
        List<int>? current = null;
        foreach (var id in targets)
        {
            if (tok.IsSentinel(id))
                spans[id] = current = [];
            else
                current!.Add(id);
        }
        var restored = new List<int>();
        foreach (var id in inputs)
        {
            if (tok.IsSentinel(id))
                restored.AddRange(spans[id]);
            else
                restored.Add(id);
        }
        return [.. restored];
    }
}

public sealed class Ul2MixtureTests
{
    [Theory]
    [InlineData(3.0, 4550, 910)]
    [InlineData(8.0, 4714, 796)]
    [InlineData(64.0, 4805, 733)]
    public void RandomSpansHelperMatchesTheSpec(double mean, int raw, int targets)
    {
        Assert.Equal(new RandomSpansLengths(raw, 4096, targets), RandomSpansHelper.Compute(4096, 0.15, mean));
        // and a real example cut at that raw length has exactly those lengths
        var tok = new ByteTokenizer(extraIds: 253);
        var tokens = Enumerable.Range(0, raw).Select(i => ByteTokenizer.ByteId((byte)(i % 251))).ToArray();
        var example = new SpanCorruption(0.15, mean).Apply(tokens, tok, new Generator(7));
        Assert.Equal(4096, example.InputIds.Length);
        Assert.Equal(targets, example.TargetIds.Length);
    }

    [Fact]
    public void RandomSpansHelperNeverOvershoots() => DataProps.Check(
        from input in Gen.Choose(3, 3000)
        from density in Gen.Choose(1, 60).Select(p => p / 100.0)
        from mean in Gen.Choose(10, 700).Select(m => m / 10.0)
        select (input, density, mean), c =>
        {
            var task = new SpanCorruption(c.density, c.mean);
            var lengths = RandomSpansHelper.Compute(c.input, task);
            return lengths.InputLength <= c.input && task.Counts(lengths.RawLength + 1).InputLength > c.input
                && lengths.InputLength == task.Counts(lengths.RawLength).InputLength;
        });

    [Fact]
    public void PrefixLmReconstructsTheSequence() => DataProps.Check(
        from length in Gen.Choose(2, 400)
        from seed in Gen.Choose(0, int.MaxValue)
        select (length, seed), c =>
        {
            var tok = new ByteTokenizer();
            var tokens = Enumerable.Range(0, c.length).Select(i => ByteTokenizer.ByteId((byte)(i * 7))).ToArray();
            var example = new PrefixLm().Apply(tokens, tok, new Generator((ulong)c.seed));
            var prefix = example.InputIds.Length - 1;
            return prefix >= 1 && prefix <= c.length - 1
                && example.InputIds[^1] == tok.EosId && example.TargetIds[^1] == tok.EosId
                && !example.InputIds.Any(tok.IsSentinel)
                && Ul2Reconstruction.Restore(example, tok).SequenceEqual(tokens);
        });

    [Fact]
    public void PrefixLengthIsUniform()
    {
        var task = new PrefixLm(0.5);
        var rng = new Generator(99);
        var counts = new int[6];
        for (var i = 0; i < 10_000; i++)
            counts[task.PrefixLength(6, rng)]++;
        Assert.Equal(0, counts[0]);
        Assert.All(counts[1..], n => Assert.InRange(n, 2000 - 250, 2000 + 250));   // 5σ ≈ 200
        // lower densities raise the minimum prefix: (1 − 2·0.25)·9 = 4.5 → 4
        var quarter = new PrefixLm(0.25);
        Assert.All(Enumerable.Range(0, 500).Select(_ => quarter.PrefixLength(10, rng)), p => Assert.InRange(p, 4, 9));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PrefixLm(0.6));
    }

    private static IEnumerable<int[]> Documents(ulong seed, int count)
    {
        var rng = new Generator(seed);
        for (var d = 0; d < count; d++)
            yield return [.. Enumerable.Range(0, 50 + rng.NextInt(400)).Select(_ => 3 + rng.NextInt(256))];
    }

    [Fact]
    public void CoLT5MixtureUsesFourTasksInEqualShares()
    {
        var tok = new ByteTokenizer();
        var mixture = new Ul2Mixture(tok, inputLength: 128, targetLength: 64);
        Assert.Equal(["prefix_lm(0.5)", "span(0.15,3)", "span(0.15,8)", "span(0.15,64)"],
            mixture.Tasks.Select(t => t.Name));
        var samples = mixture.GenerateTagged(Documents(1, 5000), new Generator(2024)).Take(8000).ToList();
        Assert.Equal(8000, samples.Count);
        var sigma = Math.Sqrt(8000 * 0.25 * 0.75);                               // ≈ 38.7
        foreach (var group in samples.GroupBy(s => s.TaskIndex))
            Assert.InRange(group.Count(), 2000 - 4 * sigma, 2000 + 4 * sigma);
        Assert.Equal(4, samples.Select(s => s.TaskIndex).Distinct().Count());
        Assert.All(samples, s => Assert.True(s.Example.InputIds.Length <= 128 && s.Example.TargetIds.Length <= 64));
        // span-corruption examples cut from full chunks fill the input exactly
        Assert.All(samples.Where(s => s.TaskIndex > 0), s => Assert.Equal(128, s.Example.InputIds.Length));
        // prefix-LM continuations longer than the target length are cut without EOS
        var prefix = samples.Where(s => s.TaskIndex == 0).Select(s => s.Example).ToList();
        Assert.Contains(prefix, e => e.TargetIds.Length == 64 && e.TargetIds[^1] != tok.EosId);
        Assert.Contains(prefix, e => e.TargetIds[^1] == tok.EosId);
    }

    [Fact]
    public void MixtureIsDeterministicAndConsumesTheStreamInOrder()
    {
        var tok = new ByteTokenizer();
        // targets long enough that nothing is cut, so every chunk can be restored
        var mixture = new Ul2Mixture(tok, inputLength: 200, targetLength: 400);
        var docs = Documents(3, 300).ToList();
        var a = mixture.Generate(docs, new Generator(5)).ToList();
        var b = mixture.Generate(docs, new Generator(5)).ToList();
        Assert.Equal(a.Select(e => e.InputIds), b.Select(e => e.InputIds));
        Assert.Equal(a.Select(e => e.TargetIds), b.Select(e => e.TargetIds));
        var restored = a.SelectMany(e => Ul2Reconstruction.Restore(e, tok)).ToList();
        var stream = docs.SelectMany(d => d).ToList();
        Assert.InRange(stream.Count - restored.Count, 0, 1);                  // a final single token is dropped
        Assert.Equal(stream.Take(restored.Count), restored);
    }

    [Fact]
    public void ModeTokensArePrependedWhenEnabled()
    {
        var tok = new ByteTokenizer();
        var modes = Ul2ModeTokens.FromLowestSentinels(tok);
        Assert.Equal((259, 260, 261), (modes.Regular, modes.Sequential, modes.Extreme));
        var mixture = new Ul2Mixture(tok, 128, 64, modeTokens: modes);
        var samples = mixture.GenerateTagged(Documents(4, 400), new Generator(6)).Take(400).ToList();
        int[] expected = [modes.Sequential, modes.Regular, modes.Regular, modes.Extreme];
        Assert.All(samples, s => Assert.Equal(expected[s.TaskIndex], s.Example.InputIds[0]));
        Assert.All(samples.Where(s => s.TaskIndex > 0), s => Assert.Equal(128, s.Example.InputIds.Length));
        var plain = new Ul2Mixture(tok, 128, 64).Generate(Documents(4, 400), new Generator(6)).Take(400);
        Assert.DoesNotContain(plain, e => e.InputIds[0] is 259 or 260 or 261);
    }

    [Fact]
    public void TooFewSentinelsFailAtConstruction()
    {
        var error = Assert.Throws<ArgumentException>(() => new Ul2Mixture(new ByteTokenizer(), 4096, 910));
        Assert.Contains("span(0.15,3)", error.Message, StringComparison.Ordinal);
        var mixture = new Ul2Mixture(new ByteTokenizer(extraIds: 253), 4096, 910);
        Assert.Equal([4096, 4550, 4714, 4805], Enumerable.Range(0, 4).Select(mixture.RawLength));
        // 228 sentinels cover the 227 spans, but then the three lowest cannot double as mode tokens
        var tok228 = new ByteTokenizer(extraIds: 228);
        var clash = Assert.Throws<ArgumentException>(() =>
            new Ul2Mixture(tok228, 4096, 910, modeTokens: Ul2ModeTokens.FromLowestSentinels(tok228)));
        Assert.Contains("mode token", clash.Message, StringComparison.Ordinal);
    }
}
