// sentencepiece's Normalizer, byte for byte: user-defined symbols first, then the charsmap's longest rule, then
// whitespace handling (drop leading/trailing/repeated spaces, dummy prefix, escape to U+2581). Works on UTF-8
// and records, for every normalised byte, the original byte offset it came from.
using System;

namespace CoLT5.Model.Tokenization.SentencePiece;

/// <summary>Normalises UTF-8 text with a model's <see cref="SentencePieceNormalizerSpec"/>.</summary>
internal sealed class TextNormalizer
{
    /// <summary>U+2581 LOWER ONE EIGHTH BLOCK in UTF-8, the escaped whitespace.</summary>
    public static ReadOnlySpan<byte> SpaceSymbol => [0xE2, 0x96, 0x81];

    private static ReadOnlySpan<byte> ReplacementCharacter => [0xEF, 0xBF, 0xBD];

    private readonly PrecompiledCharsmap? charsmap;
    private readonly PieceTrie? userDefined;
    private readonly bool addDummyPrefix, removeExtraWhitespaces, escapeWhitespaces, whitespaceAsSuffix;

    /// <summary>Creates the normaliser. <paramref name="userDefined"/> holds the user-defined symbols, which pass
    /// through unnormalised; <paramref name="charsmap"/> is null for the identity mapping.</summary>
    public TextNormalizer(SentencePieceNormalizerSpec spec, bool whitespaceAsSuffix, PrecompiledCharsmap? charsmap,
        PieceTrie? userDefined)
    {
        this.charsmap = charsmap;
        this.userDefined = userDefined is { IsEmpty: false } ? userDefined : null;
        addDummyPrefix = spec.AddDummyPrefix;
        removeExtraWhitespaces = spec.RemoveExtraWhitespaces;
        escapeWhitespaces = spec.EscapeWhitespaces;
        this.whitespaceAsSuffix = whitespaceAsSuffix;
    }

    /// <summary>
    /// Normalises <paramref name="input"/> into <paramref name="normalized"/> (cleared first) and fills
    /// <paramref name="normToOrig"/> with one original byte offset per normalised byte plus one for the end.
    /// </summary>
    public void Normalize(ReadOnlySpan<byte> input, GrowableBuffer<byte> normalized, GrowableBuffer<int> normToOrig)
    {
        normalized.Clear();
        normToOrig.Clear();
        if (input.IsEmpty)
            return;                     // the library returns no offsets at all for empty input
        var consumed = 0;
        if (removeExtraWhitespaces)
        {
            // Leading whitespace: drop every prefix that normalises to exactly one space.
            while (consumed < input.Length)
            {
                var length = NormalizePrefix(input[consumed..], out var piece);
                if (!(piece.Length == 1 && piece[0] == (byte)' '))
                    break;
                consumed += length;
            }
            if (consumed == input.Length)
                return;
        }
        if (!whitespaceAsSuffix && addDummyPrefix)
            AddSpace(normalized, normToOrig, consumed);
        var previousIsSpace = removeExtraWhitespaces;
        while (consumed < input.Length)
        {
            var length = NormalizePrefix(input[consumed..], out var piece);
            while (previousIsSpace && !piece.IsEmpty && piece[0] == (byte)' ')
                piece = piece[1..];
            if (!piece.IsEmpty)
            {
                foreach (var b in piece)
                {
                    if (escapeWhitespaces && b == (byte)' ')
                    {
                        AddSpace(normalized, normToOrig, consumed);
                    }
                    else
                    {
                        normalized.Add(b);
                        normToOrig.Add(consumed);
                    }
                }
                previousIsSpace = piece[^1] == (byte)' ';
            }
            consumed += length;
            if (!removeExtraWhitespaces)
                previousIsSpace = false;
        }
        if (removeExtraWhitespaces)
        {
            // Trailing whitespace: cut it and report the end at the first removed byte's origin.
            var space = escapeWhitespaces ? SpaceSymbol : " "u8;
            while (normalized.Span.EndsWith(space))
            {
                var length = normalized.Count - space.Length;
                consumed = normToOrig[length];
                normalized.Truncate(length);
                normToOrig.Truncate(length);
            }
        }
        if (whitespaceAsSuffix && addDummyPrefix)
            AddSpace(normalized, normToOrig, consumed);
        normToOrig.Add(consumed);
    }

    /// <summary>Normalises the first rule-sized prefix of <paramref name="input"/> (non-empty): returns how many
    /// input bytes it consumes and sets <paramref name="piece"/> to what replaces them.</summary>
    private int NormalizePrefix(ReadOnlySpan<byte> input, out ReadOnlySpan<byte> piece)
    {
        if (userDefined is not null)
        {
            var symbol = userDefined.LongestPrefix(input);
            if (symbol > 0)
            {
                piece = input[..symbol];
                return symbol;
            }
        }
        if (charsmap is not null)
        {
            var matched = charsmap.Match(input, out piece);
            if (matched > 0)
                return matched;
        }
        Utf8Rules.Decode(input, out var length, out var valid);
        if (!valid)
        {
            piece = ReplacementCharacter;   // one ill-formed byte becomes U+FFFD
            return 1;
        }
        piece = input[..length];
        return length;
    }

    private void AddSpace(GrowableBuffer<byte> normalized, GrowableBuffer<int> normToOrig, int origin)
    {
        if (escapeWhitespaces)
        {
            normalized.AddRange(SpaceSymbol);
            normToOrig.Add(origin);
            normToOrig.Add(origin);
            normToOrig.Add(origin);
        }
        else
        {
            normalized.Add((byte)' ');
            normToOrig.Add(origin);
        }
    }
}
