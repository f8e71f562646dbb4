// Streams {"input": "...", "target": "..."} records from JSON Lines files; every malformed line is reported as a
// DataFormatException naming the file, the 1-based line number and the problem.
using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using CoLT5.Model.Tokenization;

namespace CoLT5.Model.Data;

/// <summary>One text pair read from a JSON Lines file, with the line it came from.</summary>
/// <param name="Input">The encoder text (never empty).</param>
/// <param name="Target">The decoder text (may be empty).</param>
/// <param name="LineNumber">1-based line number in the source.</param>
public sealed record Seq2SeqRecord(string Input, string Target, long LineNumber);

/// <summary>
/// Reads seq2seq JSON Lines: one object per line with string fields <c>input</c> and <c>target</c> (other
/// fields are ignored). Blank lines are skipped; a leading byte-order mark is allowed; lines end in LF or CRLF.
/// Errors are <see cref="DataFormatException"/>s: invalid UTF-8, invalid JSON, a line that is not an object, a
/// missing field, a field that is not a string, an empty <c>input</c>, or a line longer than the byte cap (the
/// reader never buffers more than the cap, so a huge line cannot exhaust memory).
/// </summary>
public static class JsonlSeq2SeqReader
{
    /// <summary>Default cap on one line: 16 MiB.</summary>
    public const int DefaultMaxLineBytes = 16 * 1024 * 1024;

    /// <summary>The field holding the encoder text.</summary>
    public const string InputField = "input";

    /// <summary>The field holding the decoder text.</summary>
    public const string TargetField = "target";

    /// <summary>Streams the records of a file; the file is opened on the first enumeration step.</summary>
    public static IEnumerable<Seq2SeqRecord> Read(string path, int maxLineBytes = DefaultMaxLineBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return ReadFile(path, maxLineBytes);
    }

    /// <summary>Streams the records of <paramref name="stream"/>; errors name <paramref name="sourceName"/>.</summary>
    public static IEnumerable<Seq2SeqRecord> Read(Stream stream, string sourceName,
        int maxLineBytes = DefaultMaxLineBytes)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sourceName);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLineBytes);
        return ReadStream(stream, sourceName, maxLineBytes);
    }

    /// <summary>Reads every record of a file into memory.</summary>
    public static List<Seq2SeqRecord> ReadAll(string path, int maxLineBytes = DefaultMaxLineBytes) =>
        [.. Read(path, maxLineBytes)];

    /// <summary>
    /// Streams a file as tokenized examples, truncated per <see cref="Seq2SeqExample.FromText"/> (EOS kept last).
    /// </summary>
    public static IEnumerable<Seq2SeqExample> ReadExamples(string path, ITokenizer tokenizer, int maxInputLength,
        int maxTargetLength, int maxLineBytes = DefaultMaxLineBytes)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        foreach (var record in Read(path, maxLineBytes))
            yield return Seq2SeqExample.FromText(tokenizer, record.Input, record.Target, maxInputLength,
                maxTargetLength);
    }

    private static IEnumerable<Seq2SeqRecord> ReadFile(string path, int maxLineBytes)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16,
            FileOptions.SequentialScan);
        foreach (var record in ReadStream(stream, path, maxLineBytes))
            yield return record;
    }

    private static IEnumerable<Seq2SeqRecord> ReadStream(Stream stream, string sourceName, int maxLineBytes)
    {
        foreach (var (line, number) in BoundedLineReader.Lines(stream, sourceName, maxLineBytes))
        {
            if (IsBlank(line.Span))
                continue;
            yield return Parse(line, number, sourceName);
        }
    }

    private static bool IsBlank(ReadOnlySpan<byte> line)
    {
        foreach (var b in line)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r'))
                return false;
        }
        return true;
    }

    private static Seq2SeqRecord Parse(ReadOnlyMemory<byte> line, long number, string sourceName)
    {
        if (!Utf8.IsValid(line.Span))
            throw new DataFormatException(sourceName, number,
                $"invalid UTF-8 at byte {FirstInvalidByte(line.Span) + 1} of the line");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new DataFormatException(sourceName, number, $"invalid JSON: {e.Message}", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new DataFormatException(sourceName, number,
                    $"expected a JSON object, found {Describe(root.ValueKind)}");
            var input = Field(root, InputField, number, sourceName);
            var target = Field(root, TargetField, number, sourceName);
            if (input.Length == 0)
                throw new DataFormatException(sourceName, number, $"field \"{InputField}\" is empty");
            return new Seq2SeqRecord(input, target, number);
        }
    }

    private static int FirstInvalidByte(ReadOnlySpan<byte> bytes)
    {
        var offset = 0;
        while (offset < bytes.Length && Rune.DecodeFromUtf8(bytes[offset..], out _, out var consumed)
               == OperationStatus.Done)
            offset += consumed;
        return offset;
    }

    private static string Field(JsonElement root, string name, long number, string sourceName)
    {
        if (!root.TryGetProperty(name, out var value))
            throw new DataFormatException(sourceName, number, $"missing field \"{name}\"");
        if (value.ValueKind != JsonValueKind.String)
            throw new DataFormatException(sourceName, number,
                $"field \"{name}\" must be a string, found {Describe(value.ValueKind)}");
        return value.GetString()!;
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };
}
