// One tokenized training pair, and the truncation rule every pipeline uses: cut the content, keep EOS last.
using System;
using CoLT5.Model.Tokenization;

namespace CoLT5.Model.Data;

/// <summary>
/// A tokenized encoder/decoder pair. Both sequences normally end with EOS (every builder in this namespace
/// appends it); neither contains padding.
/// </summary>
/// <param name="InputIds">Encoder token ids.</param>
/// <param name="TargetIds">Decoder label ids (unshifted).</param>
public sealed record Seq2SeqExample(int[] InputIds, int[] TargetIds)
{
    /// <summary>
    /// Tokenizes a text pair and appends EOS to both sides. A side longer than its limit is truncated from the
    /// end to <c>limit − 1</c> content tokens followed by EOS, so EOS is always the last token.
    /// </summary>
    public static Seq2SeqExample FromText(ITokenizer tokenizer, string input, string target, int maxInputLength,
        int maxTargetLength)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return new Seq2SeqExample(
            TruncateWithEos(tokenizer.Encode(input), maxInputLength, tokenizer.EosId),
            TruncateWithEos(tokenizer.Encode(target), maxTargetLength, tokenizer.EosId));
    }

    /// <summary>
    /// Appends <paramref name="eosId"/> to <paramref name="content"/> (ids without EOS), first cutting the content
    /// to <c>maxLength − 1</c> tokens when needed. The result has at most <paramref name="maxLength"/> ids.
    /// </summary>
    public static int[] TruncateWithEos(ReadOnlySpan<int> content, int maxLength, int eosId)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLength);
        var kept = Math.Min(content.Length, maxLength - 1);
        var ids = new int[kept + 1];
        content[..kept].CopyTo(ids);
        ids[kept] = eosId;
        return ids;
    }

    /// <summary>
    /// Caps this example's lengths. A sequence longer than its limit keeps its first <c>limit − 1</c> ids and
    /// gets <paramref name="eosId"/> as its last id; sequences within their limits are returned unchanged.
    /// </summary>
    public Seq2SeqExample Truncate(int maxInputLength, int maxTargetLength, int eosId)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxInputLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxTargetLength);
        if (InputIds.Length <= maxInputLength && TargetIds.Length <= maxTargetLength)
            return this;
        return new Seq2SeqExample(Cap(InputIds, maxInputLength, eosId), Cap(TargetIds, maxTargetLength, eosId));
    }

    private static int[] Cap(int[] ids, int maxLength, int eosId) =>
        ids.Length <= maxLength ? ids : TruncateWithEos(ids.AsSpan(0, maxLength - 1), maxLength, eosId);
}
