// Splits a byte stream into lines without ever buffering more than a fixed cap: an over-long line is an error
// raised after reading at most cap + a few bytes of it, never a string of unbounded size.
using System;
using System.Collections.Generic;
using System.IO;

namespace CoLT5.Model.Data;

/// <summary>Reads '\n'-terminated lines (a trailing '\r' dropped) as byte slices of bounded length.</summary>
internal static class BoundedLineReader
{
    private const int ChunkBytes = 64 * 1024;

    /// <summary>
    /// Yields each line's bytes and its 1-based number. The memory handed out is reused by the next line, so
    /// consume it before moving on. A leading UTF-8 byte-order mark is skipped.
    /// </summary>
    public static IEnumerable<(ReadOnlyMemory<byte> Line, long Number)> Lines(Stream stream, string sourceName,
        int maxLineBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLineBytes);
        // A line of maxLineBytes content plus "\r\n" (and a byte-order mark on line 1) must fit; anything longer
        // is refused before the buffer grows further.
        var capacityLimit = (long)maxLineBytes + 5;
        var buffer = new byte[(int)Math.Min(ChunkBytes, capacityLimit)];
        int start = 0, end = 0, scanned = 0;
        long number = 0;
        var eof = false;
        var first = true;
        while (true)
        {
            var newline = buffer.AsSpan(start + scanned, end - start - scanned).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var length = scanned + newline;
                var lineStart = start;
                start += length + 1;
                scanned = 0;
                number++;
                yield return (Trim(buffer, lineStart, length, number, sourceName, maxLineBytes, ref first), number);
                continue;
            }
            scanned = end - start;
            if (scanned > maxLineBytes + (number == 0 ? 4 : 1))
                throw TooLong(sourceName, number + 1, maxLineBytes);
            if (eof)
            {
                if (end > start)
                {
                    number++;
                    yield return (Trim(buffer, start, end - start, number, sourceName, maxLineBytes, ref first),
                        number);
                }
                yield break;
            }
            if (start > 0)
            {
                Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                end -= start;
                start = 0;
            }
            if (end == buffer.Length)
            {
                var grown = (int)Math.Min(Math.Max((long)buffer.Length * 2, ChunkBytes), capacityLimit);
                Array.Resize(ref buffer, grown);
            }
            var read = stream.Read(buffer, end, buffer.Length - end);
            if (read == 0)
                eof = true;
            end += read;
        }
    }

    private static ReadOnlyMemory<byte> Trim(byte[] buffer, int start, int length, long number, string sourceName,
        int maxLineBytes, ref bool first)
    {
        if (first)
        {
            first = false;
            if (length >= 3 && buffer[start] == 0xEF && buffer[start + 1] == 0xBB && buffer[start + 2] == 0xBF)
            {
                start += 3;
                length -= 3;
            }
        }
        if (length > 0 && buffer[start + length - 1] == (byte)'\r')
            length--;
        if (length > maxLineBytes)
            throw TooLong(sourceName, number, maxLineBytes);
        return new ReadOnlyMemory<byte>(buffer, start, length);
    }

    private static DataFormatException TooLong(string sourceName, long number, int maxLineBytes) =>
        new(sourceName, number, $"line is longer than the limit of {maxLineBytes} bytes");
}
