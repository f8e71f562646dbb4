// The UTF-8 rules SentencePiece itself uses: its character-length table (by lead byte) and its strict decoder,
// whose failures consume one byte and stand for U+FFFD. Kept separate from .NET's decoder, which groups
// ill-formed bytes differently.
using System;

namespace CoLT5.Model.Tokenization.SentencePiece;

/// <summary>UTF-8 helpers that match sentencepiece's <c>string_util</c> byte for byte.</summary>
internal static class Utf8Rules
{
    /// <summary>The code point sentencepiece reports for an ill-formed byte.</summary>
    public const int ReplacementCodePoint = 0xFFFD;

    /// <summary>Length of the character whose first byte is <paramref name="lead"/>, from the lead byte alone
    /// (continuation bytes count 1), as sentencepiece's <c>OneCharLen</c>.</summary>
    public static int OneCharLength(byte lead) => (lead >> 4) switch
    {
        < 12 => 1,
        12 or 13 => 2,
        14 => 3,
        _ => 4,
    };

    /// <summary>
    /// Decodes one character at the start of <paramref name="bytes"/> (non-empty). Returns its code point, or
    /// <see cref="ReplacementCodePoint"/> with <paramref name="length"/> = 1 when the bytes are ill-formed
    /// (overlong forms, surrogates, values above U+10FFFF, bad or missing continuation bytes).
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> bytes, out int length, out bool valid)
    {
        var b0 = bytes[0];
        length = 1;
        valid = true;
        if (b0 < 0x80)
            return b0;
        var n = bytes.Length;
        if (n >= 2 && (b0 & 0xE0) == 0xC0)
        {
            var cp = ((b0 & 0x1F) << 6) | (bytes[1] & 0x3F);
            if (IsTrail(bytes[1]) && cp >= 0x80)
            {
                length = 2;
                return cp;
            }
        }
        else if (n >= 3 && (b0 & 0xF0) == 0xE0)
        {
            var cp = ((b0 & 0x0F) << 12) | ((bytes[1] & 0x3F) << 6) | (bytes[2] & 0x3F);
            if (IsTrail(bytes[1]) && IsTrail(bytes[2]) && cp >= 0x800 && IsScalar(cp))
            {
                length = 3;
                return cp;
            }
        }
        else if (n >= 4 && (b0 & 0xF8) == 0xF0)
        {
            var cp = ((b0 & 0x07) << 18) | ((bytes[1] & 0x3F) << 12) | ((bytes[2] & 0x3F) << 6) | (bytes[3] & 0x3F);
            if (IsTrail(bytes[1]) && IsTrail(bytes[2]) && IsTrail(bytes[3]) && cp >= 0x10000 && IsScalar(cp))
            {
                length = 4;
                return cp;
            }
        }
        valid = false;
        return ReplacementCodePoint;
    }

    /// <summary>True when all of <paramref name="bytes"/> is well-formed UTF-8; otherwise
    /// <paramref name="firstBad"/> is the offset of the first ill-formed byte.</summary>
    public static bool IsValid(ReadOnlySpan<byte> bytes, out int firstBad)
    {
        var i = 0;
        while (i < bytes.Length)
        {
            Decode(bytes[i..], out var length, out var valid);
            if (!valid)
            {
                firstBad = i;
                return false;
            }
            i += length;
        }
        firstBad = -1;
        return true;
    }

    private static bool IsTrail(byte b) => (b & 0xC0) == 0x80;

    private static bool IsScalar(int cp) => cp < 0xD800 || (cp >= 0xE000 && cp <= 0x10FFFF);
}
