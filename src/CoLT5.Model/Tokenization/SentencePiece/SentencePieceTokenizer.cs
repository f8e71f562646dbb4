// ITokenizer over a SentencePiece unigram model in T5's layout: the model's pieces keep their ids and, as in
// Hugging Face's T5 tokenizer, sentinels <extra_id_N> are appended above them (<extra_id_0> is the highest id).
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace CoLT5.Model.Tokenization.SentencePiece;

/// <summary>
/// A SentencePiece tokenizer. Ids 0 to <c>PieceCount − 1</c> are the model's pieces; then come
/// <see cref="SentinelCount"/> sentinels, <c>&lt;extra_id_0&gt;</c> = <c>VocabSize − 1</c> counting down.
/// Encoding is bit-exact with sentencepiece 0.1.97 (see docs/tokenizers.md).
/// </summary>
public sealed class SentencePieceTokenizer : ITokenizer
{
    /// <summary>T5's number of sentinels.</summary>
    public const int T5SentinelCount = 100;

    private const string SentinelPrefix = "<extra_id_";

    /// <summary>Wraps a loaded model.</summary>
    /// <param name="processor">The SentencePiece model.</param>
    /// <param name="sentinelCount">Sentinels to append; null means 100 for models in T5's layout (pad 0, eos 1,
    /// unk 2) and 0 otherwise.</param>
    /// <param name="interpretSentinels">When true, <see cref="Encode(string)"/> turns the literal text
    /// <c>&lt;extra_id_N&gt;</c> (N below the sentinel count) into the sentinel id; otherwise it is ordinary
    /// text.</param>
    public SentencePieceTokenizer(SentencePieceProcessor processor, int? sentinelCount = null,
        bool interpretSentinels = false)
    {
        ArgumentNullException.ThrowIfNull(processor);
        Processor = processor;
        var isT5Layout = processor is { PadId: 0, EosId: 1, UnkId: 2 };
        SentinelCount = sentinelCount ?? (isT5Layout ? T5SentinelCount : 0);
        ArgumentOutOfRangeException.ThrowIfNegative(SentinelCount, nameof(sentinelCount));
        InterpretSentinels = interpretSentinels;
        VocabSize = checked(processor.PieceCount + SentinelCount);
    }

    /// <summary>Loads a <c>.model</c> file (see the constructor for the options).</summary>
    /// <exception cref="SentencePieceFormatException">The file is malformed or not a unigram model.</exception>
    public static SentencePieceTokenizer Load(string path, int? sentinelCount = null,
        bool interpretSentinels = false) =>
        new(SentencePieceProcessor.Load(path), sentinelCount, interpretSentinels);

    /// <summary>Loads a model from a stream (see the constructor for the options).</summary>
    public static SentencePieceTokenizer Load(Stream stream, int? sentinelCount = null,
        bool interpretSentinels = false) =>
        new(SentencePieceProcessor.Load(stream), sentinelCount, interpretSentinels);

    /// <summary>Loads a model from its bytes (see the constructor for the options).</summary>
    public static SentencePieceTokenizer FromBytes(ReadOnlySpan<byte> bytes, int? sentinelCount = null,
        bool interpretSentinels = false) =>
        new(SentencePieceProcessor.FromBytes(bytes), sentinelCount, interpretSentinels);

    /// <summary>The underlying model (piece table, normaliser, raw encode/decode).</summary>
    public SentencePieceProcessor Processor { get; }

    /// <summary>Whether <see cref="Encode(string)"/> recognises <c>&lt;extra_id_N&gt;</c> in the text.</summary>
    public bool InterpretSentinels { get; }

    /// <inheritdoc/>
    public int VocabSize { get; }

    /// <inheritdoc/>
    /// <remarks>−1 when the model has no padding piece.</remarks>
    public int PadId => Processor.PadId;

    /// <inheritdoc/>
    /// <remarks>−1 when the model has no end-of-sequence piece.</remarks>
    public int EosId => Processor.EosId;

    /// <inheritdoc/>
    public int UnkId => Processor.UnkId;

    /// <inheritdoc/>
    public int SentinelCount { get; }

    /// <inheritdoc/>
    public int[] Encode(string text) => Encode(text, appendEos: false);

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException"><paramref name="appendEos"/> is true but the model has no
    /// EOS.</exception>
    public int[] Encode(string text, bool appendEos)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (appendEos && EosId < 0)
            throw new InvalidOperationException("this SentencePiece model has no end-of-sequence piece");
        var ids = new List<int>();
        if (InterpretSentinels)
        {
            var from = 0;
            while (FindSentinel(text, from, out var at, out var length, out var n))
            {
                ids.AddRange(Processor.EncodeAsIds(text[from..at]));
                ids.Add(Sentinel(n));
                from = at + length;
            }
            ids.AddRange(Processor.EncodeAsIds(text[from..]));
        }
        else
        {
            ids.AddRange(Processor.EncodeAsIds(text));
        }
        if (appendEos)
            ids.Add(EosId);
        return [.. ids];
    }

    /// <summary>Encodes to piece strings (sentinel spellings are not interpreted).</summary>
    public string[] EncodeAsPieces(string text) => Processor.EncodeAsPieces(text);

    /// <summary>Encodes with each piece's span in the original text (sentinel spellings are not interpreted).</summary>
    public EncodedPiece[] EncodeWithOffsets(string text) => Processor.EncodeWithOffsets(text);

    /// <summary>The normalised text encoding works on (whitespace as U+2581).</summary>
    public string Normalize(string text) => Processor.Normalize(text);

    /// <inheritdoc/>
    /// <remarks>The model's decoding rules apply (see
    /// <see cref="SentencePieceProcessor.Decode(ReadOnlySpan{int})"/>); a sentinel is written as
    /// <c>&lt;extra_id_N&gt;</c>, like a visible piece, with no spaces added.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">An id is negative (other than −100) or not below
    /// <see cref="VocabSize"/>.</exception>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var kept = new List<int>(ids.Length);
        foreach (var id in ids)
        {
            if (id == EosId && id >= 0)
                break;
            if ((id == PadId && id >= 0) || id == TokenConventions.IgnoreIndex)
                continue;
            if ((uint)id >= (uint)VocabSize)
                throw new ArgumentOutOfRangeException(nameof(ids), id,
                    $"token id {id} is outside the vocabulary [0, {VocabSize})");
            kept.Add(id);
        }
        return Processor.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(kept), SentinelText);
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
    public bool IsSentinel(int id) => id >= VocabSize - SentinelCount && id < VocabSize;

    /// <inheritdoc/>
    public int SentinelIndex(int id)
    {
        if (!IsSentinel(id))
            throw new ArgumentOutOfRangeException(nameof(id), id, "not a sentinel id");
        return VocabSize - 1 - id;
    }

    private string SentinelText(int id) =>
        SentinelPrefix + SentinelIndex(id).ToString(CultureInfo.InvariantCulture) + ">";

    /// <summary>Finds the next <c>&lt;extra_id_N&gt;</c> with N a valid sentinel number (canonical digits
    /// only).</summary>
    private bool FindSentinel(string text, int from, out int at, out int length, out int n)
    {
        for (at = text.IndexOf(SentinelPrefix, from, StringComparison.Ordinal); at >= 0;
             at = text.IndexOf(SentinelPrefix, at + 1, StringComparison.Ordinal))
        {
            var digits = at + SentinelPrefix.Length;
            var close = digits;
            while (close < text.Length && char.IsAsciiDigit(text[close]) && close - digits < 9)
                close++;
            if (close == digits || close >= text.Length || text[close] != '>')
                continue;
            var number = text.AsSpan(digits, close - digits);
            if ((number.Length > 1 && number[0] == '0') || !int.TryParse(number, CultureInfo.InvariantCulture, out n)
                || n >= SentinelCount)
                continue;
            length = close + 1 - at;
            return true;
        }
        at = length = n = 0;
        return false;
    }
}
