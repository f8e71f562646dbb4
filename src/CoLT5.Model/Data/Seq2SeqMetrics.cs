// Exact-match scoring of generated answers, from text or from token ids (decoded up to EOS).
using System;
using System.Collections.Generic;
using CoLT5.Model.Tokenization;

namespace CoLT5.Model.Data;

/// <summary>Scores for generated sequences.</summary>
public static class Seq2SeqMetrics
{
    /// <summary>True when the texts are identical (ordinal comparison, no normalisation).</summary>
    public static bool ExactMatch(string predicted, string target)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(target);
        return string.Equals(predicted, target, StringComparison.Ordinal);
    }

    /// <summary>
    /// True when the decoded texts are identical. Both sides are decoded with <paramref name="tokenizer"/>, which
    /// stops at EOS and skips pad and −100, so a generated sequence may keep its decoder start token and anything
    /// after EOS, and the target may be a padded label row.
    /// </summary>
    public static bool ExactMatch(ReadOnlySpan<int> predicted, ReadOnlySpan<int> target, ITokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return ExactMatch(tokenizer.Decode(predicted), tokenizer.Decode(target));
    }

    /// <summary>Fraction of (predicted, target) text pairs that match exactly; 0 for no pairs.</summary>
    public static double ExactMatchRate(IEnumerable<(string Predicted, string Target)> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        int total = 0, hits = 0;
        foreach (var (predicted, target) in pairs)
        {
            total++;
            if (ExactMatch(predicted, target))
                hits++;
        }
        return total == 0 ? 0 : (double)hits / total;
    }
}
