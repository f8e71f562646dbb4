// Bounded positional reads from a file handle or an in-memory buffer. The reader never seeks or streams: every
// read names its absolute offset and length, and a short read is an error, never a silent partial tensor.
using System;
using System.IO;
using Microsoft.Win32.SafeHandles;

namespace CoLT5.Tensors.Serialization;

/// <summary>A fixed-length byte source read at explicit offsets (thread-safe).</summary>
internal abstract class ByteSource : IDisposable
{
    protected ByteSource(string path, long length)
    {
        Path = path;
        Length = length;
    }

    /// <summary>The file path, or the name given to a buffer, for messages.</summary>
    public string Path { get; }

    /// <summary>The length seen when the source was opened; validation is against this value.</summary>
    public long Length { get; }

    /// <summary>Fills <paramref name="destination"/> from <paramref name="offset"/>; the range must lie within
    /// <see cref="Length"/> (callers only ask for validated ranges).</summary>
    /// <exception cref="SafetensorsException">The source ended early (it shrank after it was opened).</exception>
    public void ReadExactly(long offset, Span<byte> destination, string? tensorName = null)
    {
        if (offset < 0 || destination.Length > Length - offset)
            throw new InvalidOperationException($"read of {destination.Length} bytes at {offset} is outside " +
                $"the {Length}-byte source");
        var done = 0;
        while (done < destination.Length)
        {
            var n = ReadAt(offset + done, destination[done..]);
            if (n <= 0)
                throw new SafetensorsException(SafetensorsErrorKind.IoError, Path,
                    $"the file ended after {offset + done} bytes but was {Length} bytes long when opened",
                    tensorName, offset + done);
            done += n;
        }
    }

    /// <summary>Reads up to <paramref name="destination"/>.Length bytes at <paramref name="offset"/>; 0 at the
    /// end.</summary>
    protected abstract int ReadAt(long offset, Span<byte> destination);

    /// <summary>Releases the source.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases owned resources.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}

/// <summary>A file opened for shared reading; reads use <see cref="RandomAccess"/>, never the file position.</summary>
internal sealed class FileByteSource : ByteSource
{
    private readonly SafeFileHandle handle;

    private FileByteSource(string path, SafeFileHandle handle, long length) : base(path, length) =>
        this.handle = handle;

    /// <summary>Opens a file; missing files and access problems surface as the usual IO exceptions.</summary>
    public static FileByteSource Open(string path)
    {
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
            FileOptions.RandomAccess);
        try
        {
            return new FileByteSource(path, handle, RandomAccess.GetLength(handle));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    protected override int ReadAt(long offset, Span<byte> destination) =>
        RandomAccess.Read(handle, destination, offset);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            handle.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>An in-memory copy of a file's bytes.</summary>
internal sealed class MemoryByteSource(string name, ReadOnlyMemory<byte> data) : ByteSource(name, data.Length)
{
    protected override int ReadAt(long offset, Span<byte> destination)
    {
        if (offset >= data.Length)
            return 0;
        var n = (int)Math.Min(destination.Length, data.Length - offset);
        data.Span.Slice((int)offset, n).CopyTo(destination);
        return n;
    }
}
