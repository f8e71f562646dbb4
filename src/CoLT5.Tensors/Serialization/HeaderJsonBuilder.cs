// Builds the JSON text of a safetensors header as UTF-8: compact, keys in the given order, strings escaped only
// where JSON requires it, and refuses to grow past the format's header limit.
using System;
using System.Buffers;
using System.Globalization;
using System.Text;

namespace CoLT5.Tensors.Serialization;

/// <summary>An append-only UTF-8 JSON buffer for one header, bounded in size.</summary>
internal sealed class HeaderJsonBuilder(string path, long limit)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false,
        throwOnInvalidBytes: true);

    // The bytes JSON requires escaping in a string: the quote, the backslash and the C0 controls. UTF-8 lead and
    // continuation bytes are all >= 0x80, so a byte-level scan never splits a character.
    private static readonly SearchValues<byte> NeedsEscape = SearchValues.Create(
        [(byte)'"', (byte)'\\', 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
            24, 25, 26, 27, 28, 29, 30, 31]);

    private readonly ArrayBufferWriter<byte> buffer = new(256);

    /// <summary>Appends ASCII punctuation or digits.</summary>
    public HeaderJsonBuilder Raw(string ascii)
    {
        foreach (var c in ascii)
            Append((byte)c);
        return Check();
    }

    /// <summary>Appends an integer.</summary>
    public HeaderJsonBuilder Number(long value) => Raw(value.ToString(CultureInfo.InvariantCulture));

    /// <summary>Appends a JSON string literal.</summary>
    /// <exception cref="ArgumentException">The text is not valid Unicode (an unpaired surrogate).</exception>
    public HeaderJsonBuilder String(string text, string what)
    {
        // Measure first, so that an oversized string is refused before it is encoded.
        if (buffer.WrittenCount + EscapedLength(text, what) > limit)
            ThrowTooLarge();
        var utf8 = StrictUtf8.GetBytes(text);
        Append((byte)'"');
        ReadOnlySpan<byte> rest = utf8;
        while (!rest.IsEmpty)
        {
            var run = rest.IndexOfAny(NeedsEscape);
            if (run < 0)
                run = rest.Length;
            buffer.Write(rest[..run]);
            if (run == rest.Length)
                break;
            var b = rest[run];
            switch (b)
            {
                case (byte)'"':
                    buffer.Write("\\\""u8);
                    break;
                case (byte)'\\':
                    buffer.Write("\\\\"u8);
                    break;
                case (byte)'\n':
                    buffer.Write("\\n"u8);
                    break;
                case (byte)'\r':
                    buffer.Write("\\r"u8);
                    break;
                case (byte)'\t':
                    buffer.Write("\\t"u8);
                    break;
                default:
                    buffer.Write("\\u00"u8);
                    Append((byte)"0123456789abcdef"[b >> 4]);
                    Append((byte)"0123456789abcdef"[b & 15]);
                    break;
            }
            rest = rest[(run + 1)..];
            Check();
        }
        Append((byte)'"');
        return Check();
    }

    /// <summary>The JSON, right-padded with spaces to a multiple of 8 bytes.</summary>
    /// <exception cref="SafetensorsException">The padded header exceeds the limit.</exception>
    public byte[] ToPaddedArray()
    {
        while (buffer.WrittenCount % 8 != 0)
            Append((byte)' ');
        Check();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The length of the JSON literal (quotes included) that <see cref="String"/> writes.</summary>
    /// <exception cref="ArgumentException">The text has an unpaired surrogate.</exception>
    private static long EscapedLength(string text, string what)
    {
        long length = 2;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c is '"' or '\\' or '\n' or '\r' or '\t')
                length += 2;
            else if (c < 0x20)
                length += 6;
            else if (c < 0x80)
                length += 1;
            else if (c < 0x800)
                length += 2;
            else if (!char.IsSurrogate(c))
                length += 3;
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                length += 4;
                i++;
            }
            else
            {
                throw new ArgumentException($"{what} '{SafetensorsException.Printable(text)}' is not valid " +
                    "Unicode (it has an unpaired surrogate) and cannot be written as UTF-8");
            }
        }
        return length;
    }

    private void Append(byte b)
    {
        buffer.GetSpan(1)[0] = b;
        buffer.Advance(1);
    }

    private HeaderJsonBuilder Check()
    {
        if (buffer.WrittenCount > limit)
            ThrowTooLarge();
        return this;
    }

    private void ThrowTooLarge() =>
        throw new SafetensorsException(SafetensorsErrorKind.HeaderTooLarge, path,
            $"the header would exceed {limit} bytes; safetensors readers refuse larger headers");
}
