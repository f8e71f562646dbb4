// Prefix-LM denoising (spec §7.3, T5 random_prefix_noise_mask semantics): inputs = a random-length prefix,
// targets = the rest, no sentinels; EOS appended to both.
using System;
using System.Globalization;
using CoLT5.Model.Tokenization;
using CoLT5.Tensors.Random;

namespace CoLT5.Model.Data;

/// <summary>
/// Prefix language modelling. For L raw tokens the prefix length is uniform in [min, L − 1] with
/// min = clamp(round((1 − 2·density)·(L − 1)), 1, L − 1); at the default density 0.5 that is uniform in
/// [1, L − 1]. Inputs = prefix + EOS; targets = remainder + EOS.
/// </summary>
public sealed class PrefixLm : IDenoisingTask
{
    /// <summary>Creates the task.</summary>
    /// <param name="noiseDensity">In (0, 0.5]: the mean share of the sequence that becomes target when the
    /// split point is uniform over its range; 0.5 makes it uniform over [1, L − 1].</param>
    public PrefixLm(double noiseDensity = 0.5)
    {
        if (!(noiseDensity > 0 && noiseDensity <= 0.5))
            throw new ArgumentOutOfRangeException(nameof(noiseDensity), noiseDensity, "must be in (0, 0.5]");
        NoiseDensity = noiseDensity;
    }

    /// <summary>The noise density (0.5 in CoLT5's mixture).</summary>
    public double NoiseDensity { get; }

    /// <inheritdoc/>
    public string Name => string.Create(CultureInfo.InvariantCulture, $"prefix_lm({NoiseDensity})");

    /// <inheritdoc/>
    public Ul2Mode Mode => Ul2Mode.Sequential;

    /// <summary>The raw length equals the input length: the longest prefix (L − 1) plus EOS fills it.</summary>
    public int RawLengthFor(int inputLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputLength, 2);
        return inputLength;
    }

    /// <summary>Draws a prefix length for <paramref name="length"/> raw tokens (at least 2).</summary>
    public int PrefixLength(int length, Generator rng)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 2);
        ArgumentNullException.ThrowIfNull(rng);
        var longest = length - 1;
        var shortest = (int)Math.Clamp(Math.Round((1 - 2 * NoiseDensity) * longest, MidpointRounding.ToEven),
            1, longest);
        return shortest + rng.NextInt(longest - shortest + 1);
    }

    /// <inheritdoc/>
    public Seq2SeqExample Apply(ReadOnlySpan<int> tokens, ITokenizer tokenizer, Generator rng)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var prefix = PrefixLength(tokens.Length, rng);
        var inputs = new int[prefix + 1];
        tokens[..prefix].CopyTo(inputs);
        inputs[^1] = tokenizer.EosId;
        var targets = new int[tokens.Length - prefix + 1];
        tokens[prefix..].CopyTo(targets);
        targets[^1] = tokenizer.EosId;
        return new Seq2SeqExample(inputs, targets);
    }
}
