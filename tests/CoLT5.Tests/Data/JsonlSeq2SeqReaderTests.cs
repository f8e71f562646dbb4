// JSON Lines reading: valid files stream record by record; every malformed line fails with file and line number.
using System;
using System.IO;
using System.Linq;
using System.Text;
using CoLT5.Model.Data;
using CoLT5.Model.Tokenization;
using Xunit;

namespace CoLT5.Tests.Data;

public sealed class JsonlSeq2SeqReaderTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "colt5-jsonl-" + Guid.NewGuid().ToString("N"));

    public JsonlSeq2SeqReaderTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string content, string name = "data.jsonl")
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content, new UTF8Encoding(false));
        return path;
    }

    [Fact]
    public void ReadsValidFileWithBlankLinesCrlfBomAndExtraFields()
    {
        var path = Write("\uFEFF{\"input\": \"a\", \"target\": \"b\"}\r\n" +
                         "\n" +
                         "   \n" +
                         "{\"target\": \"\\u00e9t\\u00e9 \\ud83d\\ude00\", \"id\": 7, \"input\": \"x\\ny\"}\n" +
                         "{\"input\": \"last\", \"target\": \"\"}");          // no final newline, empty target
        var records = JsonlSeq2SeqReader.ReadAll(path);
        Assert.Equal(3, records.Count);
        Assert.Equal(new Seq2SeqRecord("a", "b", 1), records[0]);
        Assert.Equal(new Seq2SeqRecord("x\ny", "été 😀", 4), records[1]);
        Assert.Equal(new Seq2SeqRecord("last", "", 5), records[2]);
    }

    [Fact]
    public void StreamsLazilyUpToTheFirstBadLine()
    {
        var content = "{\"input\": \"one\", \"target\": \"1\"}\n{\"input\": \"two\", \"target\": \"2\"}\nnot json\n";
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(content));
        var records = JsonlSeq2SeqReader.Read(stream, "mem.jsonl");
        Assert.Equal(["one", "two"], records.Take(2).Select(r => r.Input));
        stream.Position = 0;
        var error = Assert.Throws<DataFormatException>(() => records.ToList());
        Assert.Equal(3, error.LineNumber);
        Assert.Equal("mem.jsonl", error.FilePath);
    }

    [Theory]
    [InlineData("{\"input\": \"a\", \"target\": \"b\"}\n{\"input\": \"a\", \"target\": }\n", 2, "invalid JSON")]
    [InlineData("{\"input\": \"a\", \"target\": \"b\"}\n\n{\"input\": \"a\"}\n", 3, "missing field \"target\"")]
    [InlineData("{\"target\": \"b\"}\n", 1, "missing field \"input\"")]
    [InlineData("{\"input\": 5, \"target\": \"b\"}\n", 1, "field \"input\" must be a string, found a number")]
    [InlineData("{\"input\": \"a\", \"target\": null}\n", 1, "field \"target\" must be a string, found null")]
    [InlineData("{\"input\": \"a\", \"target\": [\"b\"]}\n", 1, "field \"target\" must be a string, found an array")]
    [InlineData("{\"input\": \"\", \"target\": \"b\"}\n", 1, "field \"input\" is empty")]
    [InlineData("[1, 2]\n", 1, "expected a JSON object, found an array")]
    [InlineData("\"text\"\n", 1, "expected a JSON object, found a string")]
    [InlineData("{\"input\": \"a\", \"target\": \"b\"} {\"input\": \"c\"}\n", 1, "invalid JSON")]
    public void ErrorsNameFileLineAndProblem(string content, int line, string reason)
    {
        var path = Write(content);
        var error = Assert.Throws<DataFormatException>(() => JsonlSeq2SeqReader.ReadAll(path));
        Assert.Equal(path, error.FilePath);
        Assert.Equal(line, error.LineNumber);
        Assert.StartsWith(reason, error.Reason, StringComparison.Ordinal);
        Assert.StartsWith($"{path}:{line}: {reason}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidUtf8IsReportedWithItsLine()
    {
        var path = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllBytes(path, [.. "{\"input\": \"a\", \"target\": \"b\"}\n"u8,
            .. "{\"input\": \"x"u8, 0xFF, .. "\", \"target\": \"b\"}\n"u8]);
        var error = Assert.Throws<DataFormatException>(() => JsonlSeq2SeqReader.ReadAll(path));
        Assert.Equal(2, error.LineNumber);
        Assert.Equal("invalid UTF-8 at byte 13 of the line", error.Reason);
    }

    [Fact]
    public void OverLongLineIsRejectedWithItsNumber()
    {
        var longInput = new string('x', 200);
        var path = Write("{\"input\": \"a\", \"target\": \"b\"}\n" +
                         $"{{\"input\": \"{longInput}\", \"target\": \"b\"}}\n");
        var error = Assert.Throws<DataFormatException>(() => JsonlSeq2SeqReader.ReadAll(path, maxLineBytes: 64));
        Assert.Equal(2, error.LineNumber);
        Assert.Contains("longer than the limit of 64 bytes", error.Reason, StringComparison.Ordinal);
        // the same file reads fine under a larger cap, and a line of exactly the cap (plus CRLF) is accepted
        Assert.Equal(2, JsonlSeq2SeqReader.ReadAll(path, maxLineBytes: 1024).Count);
        var exact = "{\"input\": \"a\", \"target\": \"b\"}";
        var exactPath = Write(exact + "\r\n" + exact, "exact.jsonl");
        Assert.Equal(2, JsonlSeq2SeqReader.ReadAll(exactPath, maxLineBytes: exact.Length).Count);
        Assert.Throws<DataFormatException>(() => JsonlSeq2SeqReader.ReadAll(exactPath, maxLineBytes: exact.Length - 1));
    }

    [Fact]
    public void EndlessLineStopsAtTheDefaultCapWithoutReadingFurther()
    {
        using var endless = new EndlessStream();
        var error = Assert.Throws<DataFormatException>(() => JsonlSeq2SeqReader.Read(endless, "endless").First());
        Assert.Equal(1, error.LineNumber);
        Assert.Contains($"limit of {JsonlSeq2SeqReader.DefaultMaxLineBytes} bytes", error.Reason,
            StringComparison.Ordinal);
        Assert.InRange(endless.BytesRead, JsonlSeq2SeqReader.DefaultMaxLineBytes,
            JsonlSeq2SeqReader.DefaultMaxLineBytes + (1 << 17));
    }

    [Fact]
    public void MissingFileFailsOnEnumeration()
    {
        var records = JsonlSeq2SeqReader.Read(Path.Combine(_dir, "absent.jsonl"));
        Assert.Throws<FileNotFoundException>(() => records.ToList());
    }

    [Fact]
    public void ReadExamplesTokenizesAndTruncatesKeepingEos()
    {
        var path = Write("{\"input\": \"abcdefgh\", \"target\": \"xy\"}\n{\"input\": \"ab\", \"target\": \"wxyz\"}\n");
        var tok = new ByteTokenizer();
        var examples = JsonlSeq2SeqReader.ReadExamples(path, tok, maxInputLength: 5, maxTargetLength: 3).ToList();
        Assert.Equal(tok.Encode("abcd", appendEos: true), examples[0].InputIds);
        Assert.Equal(tok.Encode("xy", appendEos: true), examples[0].TargetIds);
        Assert.Equal(tok.Encode("ab", appendEos: true), examples[1].InputIds);
        Assert.Equal(tok.Encode("wx", appendEos: true), examples[1].TargetIds);
    }

    /// <summary>An infinite stream of 'a' that counts what was read.</summary>
    private sealed class EndlessStream : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => BytesRead;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            buffer.AsSpan(offset, count).Fill((byte)'a');
            BytesRead += count;
            return count;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
