// ByT5-style byte tokenizer: three special ids, one id per UTF-8 byte, and sentinels at the top of the vocabulary.
// Default layout (125 extra ids) is exactly ByT5's: pad 0, eos 1, unk 2, bytes 3..258, sentinels 259..383.
using System;
using System.Buffers;
using System.Globalization;
using System.Text;

namespace CoLT5.Model.Tokenization;

/// <summary>
/// Byte-level tokenizer in the ByT5 layout. Ids: pad = 0, eos = 1, unk = 2, UTF-8 byte b = b + 3 (3..258), then
/// <c>extraIds</c> sentinels at the top of the vocabulary (<c>&lt;extra_id_0&gt;</c> = <c>VocabSize − 1</c>, counting
/// down). The vocabulary is <c>259 + extraIds</c> rounded up to a multiple of <c>vocabMultiple</c>; ids between the
/// last byte id and the lowest sentinel (present only when rounding adds some) are unused. With the defaults
/// (125 extra ids, multiple 128) <see cref="VocabSize"/> is 384 and no id is unused.
/// </summary>
/// <remarks>
/// Decoding invalid UTF-8 never throws: each ill-formed byte subsequence becomes U+FFFD (the .NET replacement
/// behaviour; ByT5's Python decoder drops them instead). Unk and unused ids also decode as U+FFFD.
/// Encoding a string with lone surrogates encodes U+FFFD in their place.
/// </remarks>
public sealed class ByteTokenizer : ITokenizer
{
    /// <summary>ByT5's number of sentinel ids.</summary>
    public const int DefaultExtraIds = 125;

    /// <summary>Id of the first byte (byte value 0).</summary>
    public const int ByteOffset = 3;

    private const int SpecialCount = 3;
    private const char Replacement = '\uFFFD';

    /// <summary>Creates the tokenizer.</summary>
    /// <param name="extraIds">Number of sentinel ids (at least 0).</param>
    /// <param name="vocabMultiple">Round the vocabulary up to a multiple of this (1 = no rounding).</param>
    public ByteTokenizer(int extraIds = DefaultExtraIds, int vocabMultiple = 128)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(extraIds);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabMultiple);
        var used = SpecialCount + 256 + extraIds;
        VocabSize = checked((used + vocabMultiple - 1) / vocabMultiple * vocabMultiple);
        SentinelCount = extraIds;
    }

    /// <inheritdoc/>
    public int VocabSize { get; }

    /// <inheritdoc/>
    public int PadId => 0;

    /// <inheritdoc/>
    public int EosId => 1;

    /// <inheritdoc/>
    public int UnkId => 2;

    /// <inheritdoc/>
    public int SentinelCount { get; }

    /// <summary>The lowest sentinel id (equal to <see cref="VocabSize"/> when there are no sentinels).</summary>
    public int LowestSentinelId => VocabSize - SentinelCount;

    /// <summary>The id of UTF-8 byte <paramref name="value"/>.</summary>
    public static int ByteId(byte value) => value + ByteOffset;

    /// <summary>True for the ids that stand for a UTF-8 byte.</summary>
    public static bool IsByte(int id) => id >= ByteOffset && id < ByteOffset + 256;

    /// <inheritdoc/>
    public int[] Encode(string text) => Encode(text, appendEos: false);

    /// <inheritdoc/>
    public int[] Encode(string text, bool appendEos)
    {
        ArgumentNullException.ThrowIfNull(text);
        var byteCount = Encoding.UTF8.GetByteCount(text);
        var ids = new int[byteCount + (appendEos ? 1 : 0)];
        var rented = ArrayPool<byte>.Shared.Rent(Math.Max(byteCount, 1));
        try
        {
            var written = Encoding.UTF8.GetBytes(text, rented);
            for (var i = 0; i < written; i++)
                ids[i] = rented[i] + ByteOffset;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
        if (appendEos)
            ids[^1] = EosId;
        return ids;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">An id is negative (other than −100) or not below
    /// <see cref="VocabSize"/>.</exception>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var sb = new StringBuilder(ids.Length);
        var pending = ArrayPool<byte>.Shared.Rent(Math.Max(ids.Length, 1));
        var count = 0;
        try
        {
            foreach (var id in ids)
            {
                if (id == EosId)
                    break;
                if (id == PadId || id == TokenConventions.IgnoreIndex)
                    continue;
                if (id < 0 || id >= VocabSize)
                    throw new ArgumentOutOfRangeException(nameof(ids), id,
                        $"token id {id} is outside the vocabulary [0, {VocabSize})");
                if (IsByte(id))
                {
                    pending[count++] = (byte)(id - ByteOffset);
                    continue;
                }
                Flush(sb, pending, ref count);
                if (IsSentinel(id))
                    sb.Append("<extra_id_").Append(SentinelIndex(id).ToString(CultureInfo.InvariantCulture))
                        .Append('>');
                else
                    sb.Append(Replacement);    // unk or an unused padding id
            }
            Flush(sb, pending, ref count);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(pending);
        }
        return sb.ToString();
    }

    /// <inheritdoc/>
    public int Sentinel(int n)
    {
        if ((uint)n >= (uint)SentinelCount)
            throw new ArgumentOutOfRangeException(nameof(n), n,
                $"sentinel number must be in [0, {SentinelCount}) for this tokenizer");
        return VocabSize - 1 - n;
    }

    /// <inheritdoc/>
    public bool IsSentinel(int id) => id >= LowestSentinelId && id < VocabSize;

    /// <inheritdoc/>
    public int SentinelIndex(int id)
    {
        if (!IsSentinel(id))
            throw new ArgumentOutOfRangeException(nameof(id), id, "not a sentinel id");
        return VocabSize - 1 - id;
    }

    private static void Flush(StringBuilder sb, byte[] pending, ref int count)
    {
        if (count == 0)
            return;
        sb.Append(Encoding.UTF8.GetString(pending, 0, count));   // ill-formed bytes become U+FFFD
        count = 0;
    }
}
