// Chooses the raw chunk length for span corruption so the inputs come out at the wanted length (T5's
// random_spans_helper, spec §7.2 item 7), and reports the resulting target length.
using System;

namespace CoLT5.Model.Data;

/// <summary>Lengths of a span-corruption setting.</summary>
/// <param name="RawLength">Raw tokens to cut per example.</param>
/// <param name="InputLength">Resulting input length with EOS (the wanted length, except in rare jumps).</param>
/// <param name="TargetLength">Resulting target length with EOS.</param>
public readonly record struct RandomSpansLengths(int RawLength, int InputLength, int TargetLength);

/// <summary>
/// Finds the largest raw length whose span-corrupted input (kept tokens + one sentinel per span + EOS) is at
/// most the wanted input length, using exactly <see cref="SpanCorruption.Counts"/>. For inputs of 4096 at
/// density 0.15: mean 3 → 4550 raw, 910 targets; mean 8 → 4714, 796; mean 64 → 4805, 733.
/// </summary>
public static class RandomSpansHelper
{
    /// <summary>Computes the raw and target lengths for <paramref name="inputLength"/> (at least 3).</summary>
    public static RandomSpansLengths Compute(int inputLength, double noiseDensity, double meanSpanLength) =>
        Compute(inputLength, new SpanCorruption(noiseDensity, meanSpanLength));

    /// <summary>Computes the raw and target lengths of <paramref name="task"/> for
    /// <paramref name="inputLength"/>.</summary>
    public static RandomSpansLengths Compute(int inputLength, SpanCorruption task)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentOutOfRangeException.ThrowIfLessThan(inputLength, 3);
        // inputLength − 1 raw tokens always fit: at most one sentinel per noise token, plus EOS.
        var raw = inputLength - 1;
        while (raw < int.MaxValue - 1 && task.Counts(raw + 1).InputLength <= inputLength)
            raw++;
        var counts = task.Counts(raw);
        return new RandomSpansLengths(raw, counts.InputLength, counts.TargetLength);
    }
}
