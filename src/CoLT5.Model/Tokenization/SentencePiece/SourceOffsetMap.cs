// Converts UTF-8 byte offsets in a string's encoding to code point and UTF-16 offsets. A byte inside a character
// maps to that character's start, as sentencepiece's ConvertToUnicodeSpans does.
using System;
using System.Text;

namespace CoLT5.Model.Tokenization.SentencePiece;

/// <summary>Offset tables for one string, indexed by UTF-8 byte offset (0 to byte length inclusive).</summary>
internal sealed class SourceOffsetMap
{
    private readonly int[] codePointAt;
    private readonly int[] utf16At;

    /// <summary>Builds the tables for <paramref name="text"/> as UTF-8 encodes it (lone surrogates count as
    /// U+FFFD, three bytes, as <see cref="Encoding.UTF8"/> writes them).</summary>
    public SourceOffsetMap(string text, int utf8Length)
    {
        codePointAt = new int[utf8Length + 1];
        utf16At = new int[utf8Length + 1];
        int utf8 = 0, codePoints = 0, utf16 = 0;
        while (utf16 < text.Length)
        {
            Rune.DecodeFromUtf16(text.AsSpan(utf16), out var rune, out var units);
            var bytes = rune.Utf8SequenceLength;
            for (var k = 0; k < bytes && utf8 + k < utf8Length; k++)
            {
                codePointAt[utf8 + k] = codePoints;
                utf16At[utf8 + k] = utf16;
            }
            utf8 += bytes;
            codePoints++;
            utf16 += units;
        }
        codePointAt[utf8Length] = codePoints;
        utf16At[utf8Length] = utf16;
    }

    /// <summary>The code point index of byte offset <paramref name="utf8"/>.</summary>
    public int CodePoint(int utf8) => codePointAt[Math.Clamp(utf8, 0, codePointAt.Length - 1)];

    /// <summary>The UTF-16 index of byte offset <paramref name="utf8"/>.</summary>
    public int Utf16(int utf8) => utf16At[Math.Clamp(utf8, 0, utf16At.Length - 1)];
}
