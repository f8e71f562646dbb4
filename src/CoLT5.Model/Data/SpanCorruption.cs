// T5-style span corruption (random_spans_noise_mask semantics, spec §7.2): noise and non-noise lengths are each
// split uniformly into the same number of positive spans, interleaved starting with non-noise; each noise span
// becomes one sentinel in the inputs and "sentinel + span" in the targets.
using System;
using System.Collections.Generic;
using System.Globalization;
using CoLT5.Model.Tokenization;
using CoLT5.Tensors.Random;

namespace CoLT5.Model.Data;

/// <summary>Token counts of a span-corruption example of raw length <see cref="Length"/>.</summary>
/// <param name="Length">Raw tokens.</param>
/// <param name="NoiseTokens">Tokens dropped from the inputs.</param>
/// <param name="NonNoiseTokens">Tokens kept in the inputs.</param>
/// <param name="Spans">Noise spans (equal to the number of non-noise spans).</param>
public readonly record struct SpanCounts(int Length, int NoiseTokens, int NonNoiseTokens, int Spans)
{
    /// <summary>Input length: kept tokens, one sentinel per span, EOS.</summary>
    public int InputLength => NonNoiseTokens + Spans + 1;

    /// <summary>Target length: dropped tokens, one sentinel per span, EOS.</summary>
    public int TargetLength => NoiseTokens + Spans + 1;
}

/// <summary>
/// Span corruption with a given noise density and mean noise-span length (spec §7.2). Counts for a raw length L:
/// noise = round(L·density) clipped to [1, L − 1]; spans = max(1, round(noise / mean)); rounding is
/// round-half-to-even in double precision (Python's <c>round</c>, which reproduces the spec's
/// <c>random_spans_helper</c> numbers). Spans are also capped at the non-noise count so every part is positive
/// (only tiny L can hit this). Sentinel i (counting down from the top of the vocabulary) replaces noise span i.
/// </summary>
public sealed class SpanCorruption : IDenoisingTask
{
    /// <summary>Creates the task.</summary>
    /// <param name="noiseDensity">Fraction of tokens dropped, in (0, 1).</param>
    /// <param name="meanSpanLength">Mean noise-span length, at least 1.</param>
    public SpanCorruption(double noiseDensity, double meanSpanLength)
    {
        if (!(noiseDensity > 0 && noiseDensity < 1))
            throw new ArgumentOutOfRangeException(nameof(noiseDensity), noiseDensity, "must be in (0, 1)");
        if (!(meanSpanLength >= 1) || double.IsInfinity(meanSpanLength))
            throw new ArgumentOutOfRangeException(nameof(meanSpanLength), meanSpanLength, "must be at least 1");
        NoiseDensity = noiseDensity;
        MeanSpanLength = meanSpanLength;
    }

    /// <summary>Fraction of tokens dropped.</summary>
    public double NoiseDensity { get; }

    /// <summary>Mean noise-span length.</summary>
    public double MeanSpanLength { get; }

    /// <inheritdoc/>
    public string Name => string.Create(CultureInfo.InvariantCulture, $"span({NoiseDensity},{MeanSpanLength})");

    /// <summary>Extreme when the mean span is at least 12 or the density at least 0.3 (UL2's X-denoisers).</summary>
    public Ul2Mode Mode => MeanSpanLength >= 12 || NoiseDensity >= 0.3 ? Ul2Mode.Extreme : Ul2Mode.Regular;

    /// <summary>The counts for a raw length (at least 2).</summary>
    public SpanCounts Counts(int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 2);
        var noise = (int)Math.Clamp(Math.Round(length * NoiseDensity, MidpointRounding.ToEven), 1, length - 1);
        var nonNoise = length - noise;
        var spans = (int)Math.Max(1, Math.Round(noise / MeanSpanLength, MidpointRounding.ToEven));
        spans = Math.Min(spans, Math.Min(noise, nonNoise));
        return new SpanCounts(length, noise, nonNoise, spans);
    }

    /// <inheritdoc/>
    public int RawLengthFor(int inputLength) =>
        RandomSpansHelper.Compute(inputLength, NoiseDensity, MeanSpanLength).RawLength;

    /// <summary>
    /// Draws a noise mask of <paramref name="length"/> (true = noise): alternating spans starting with non-noise,
    /// each side split uniformly at random into <see cref="SpanCounts.Spans"/> positive parts.
    /// </summary>
    public bool[] NoiseMask(int length, Generator rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var counts = Counts(length);
        var noiseLengths = RandomComposition(counts.NoiseTokens, counts.Spans, rng);
        var nonNoiseLengths = RandomComposition(counts.NonNoiseTokens, counts.Spans, rng);
        var mask = new bool[length];
        var position = 0;
        for (var span = 0; span < counts.Spans; span++)
        {
            position += nonNoiseLengths[span];
            mask.AsSpan(position, noiseLengths[span]).Fill(true);
            position += noiseLengths[span];
        }
        return mask;
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The example needs more sentinels than the tokenizer has.</exception>
    public Seq2SeqExample Apply(ReadOnlySpan<int> tokens, ITokenizer tokenizer, Generator rng)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var spans = Counts(tokens.Length).Spans;
        if (spans > tokenizer.SentinelCount)
            throw new InvalidOperationException(SentinelShortage(Name, tokens.Length, spans, tokenizer));
        return FromMask(tokens, NoiseMask(tokens.Length, rng), tokenizer);
    }

    /// <summary>
    /// Builds inputs and targets from any mask. Inputs: the tokens with each maximal noise run replaced by one
    /// sentinel (the i-th run by <c>Sentinel(i)</c>), then EOS. Targets: for each run i, <c>Sentinel(i)</c> then
    /// the run's tokens, then EOS. For masks that start with non-noise and end with noise (all masks drawn by
    /// <see cref="NoiseMask"/>) this equals T5's <c>span_corruption</c> output.
    /// </summary>
    public static Seq2SeqExample FromMask(ReadOnlySpan<int> tokens, ReadOnlySpan<bool> mask, ITokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (mask.Length != tokens.Length)
            throw new ArgumentException("mask and tokens must have the same length", nameof(mask));
        var inputs = new List<int>(tokens.Length + 1);
        var targets = new List<int>();
        var span = -1;
        for (var i = 0; i < tokens.Length; i++)
        {
            if (!mask[i])
            {
                inputs.Add(tokens[i]);
                continue;
            }
            if (i == 0 || !mask[i - 1])
            {
                span++;
                var sentinel = tokenizer.Sentinel(span);
                inputs.Add(sentinel);
                targets.Add(sentinel);
            }
            targets.Add(tokens[i]);
        }
        inputs.Add(tokenizer.EosId);
        targets.Add(tokenizer.EosId);
        return new Seq2SeqExample([.. inputs], [.. targets]);
    }

    /// <summary>
    /// Splits <paramref name="items"/> into <paramref name="parts"/> positive lengths, uniformly over all such
    /// compositions: <c>parts − 1</c> distinct cut points are drawn from the <c>items − 1</c> gaps.
    /// </summary>
    public static int[] RandomComposition(int items, int parts, Generator rng)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(parts);
        ArgumentOutOfRangeException.ThrowIfLessThan(items, parts);
        ArgumentNullException.ThrowIfNull(rng);
        // Floyd's sampling of parts − 1 distinct cuts from {1, ..., items − 1}.
        var gaps = items - 1;
        var cuts = new HashSet<int>();
        for (var top = gaps - (parts - 1) + 1; top <= gaps; top++)
        {
            var pick = 1 + rng.NextInt(top);
            cuts.Add(cuts.Contains(pick) ? top : pick);
        }
        var sorted = new int[cuts.Count + 2];
        cuts.CopyTo(sorted, 1);
        sorted[^1] = items;
        Array.Sort(sorted);
        var lengths = new int[parts];
        for (var p = 0; p < parts; p++)
            lengths[p] = sorted[p + 1] - sorted[p];
        return lengths;
    }

    internal static string SentinelShortage(string task, int length, int spans, ITokenizer tokenizer) =>
        $"{task} on {length} raw tokens makes {spans} noise spans but the tokenizer has only " +
        $"{tokenizer.SentinelCount} sentinels; use a tokenizer with more extra ids, shorter inputs or longer spans";
}
