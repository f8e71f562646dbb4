// A safetensors file opened for reading: the header is validated completely on open (nothing sized by the file
// is allocated before that), then tensors are read on demand with bounded positional reads and converted.
using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using CoLT5.Tensors.Backends;

namespace CoLT5.Tensors.Serialization;

/// <summary>
/// A validated safetensors file. Opening checks the whole header (ecosystem notes §1.3 plus duplicate keys and
/// unknown tensor fields); every failure is a <see cref="SafetensorsException"/> with a
/// <see cref="SafetensorsErrorKind"/>. Loads may run concurrently from several threads.
/// </summary>
/// <remarks>
/// Conversions: F16, BF16, F32 and F64 load into Float32, Float64 or BFloat16 (narrowing rounds to nearest-even;
/// same-type loads are bit-exact). BOOL and the integer dtypes (U8, I8, I16, U16, I32, U32, I64, U64) load into
/// Int32 or Bool only when every value is representable exactly (Bool: 0 or 1), else
/// <see cref="SafetensorsErrorKind.ValueOutOfRange"/>. F4, F6, F8 and C64 tensors can be listed but not loaded.
/// </remarks>
public sealed class SafetensorsFile : IDisposable
{
    /// <summary>The largest header a file may declare, in bytes.</summary>
    public const int MaxHeaderLength = (int)SafetensorsHeader.MaxHeaderLength;

    private const int ChunkBytes = 1 << 20;

    private readonly ByteSource source;
    private readonly SafetensorsHeader header;
    private readonly Dictionary<string, SafetensorsEntry> byName;
    private bool disposed;

    /// <summary>Opens and validates a file.</summary>
    /// <param name="path">The file to read. It is kept open (shared for reading) until disposal.</param>
    /// <exception cref="SafetensorsException">The file is not a valid safetensors file.</exception>
    /// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
    public SafetensorsFile(string path)
        : this(FileByteSource.Open(path ?? throw new ArgumentNullException(nameof(path))))
    {
    }

    private SafetensorsFile(ByteSource source)
    {
        this.source = source;
        try
        {
            header = SafetensorsHeader.Read(source);
        }
        catch
        {
            source.Dispose();
            throw;
        }
        Entries = new ReadOnlyCollection<SafetensorsEntry>(header.Entries);
        Metadata = new ReadOnlyDictionary<string, string>(header.Metadata);
        byName = new Dictionary<string, SafetensorsEntry>(header.Entries.Length, StringComparer.Ordinal);
        foreach (var entry in header.Entries)
            byName.Add(entry.Name, entry);
    }

    /// <summary>Opens and validates a file (same as the constructor).</summary>
    /// <exception cref="SafetensorsException">The file is not a valid safetensors file.</exception>
    public static SafetensorsFile Open(string path) => new(path);

    /// <summary>Validates a file image held in memory (the buffer is used, not copied: do not change it).</summary>
    /// <param name="data">The bytes of a whole file.</param>
    /// <param name="name">A name for messages and <see cref="SafetensorsException.Path"/>.</param>
    /// <exception cref="SafetensorsException">The bytes are not a valid safetensors file.</exception>
    public static SafetensorsFile FromBytes(ReadOnlyMemory<byte> data, string name = "<memory>") =>
        new(new MemoryByteSource(name, data));

    /// <summary>The file path (or the name given to <see cref="FromBytes"/>).</summary>
    public string Path => source.Path;

    /// <summary>The file length in bytes when it was opened.</summary>
    public long Length => source.Length;

    /// <summary>N, the byte length of the JSON header (including any padding).</summary>
    public long HeaderLength => header.HeaderLength;

    /// <summary>Absolute offset of the data section (8 + N).</summary>
    public long DataOffset => header.DataStart;

    /// <summary>The "__metadata__" map (empty when the file has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Every tensor entry, in data-offset order.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }

    /// <summary>True when a tensor of that name exists.</summary>
    public bool Contains(string name) => byName.ContainsKey(name);

    /// <summary>The entry of a tensor, or false when there is none.</summary>
    public bool TryGetEntry(string name, out SafetensorsEntry entry) => byName.TryGetValue(name, out entry!);

    /// <summary>The entry of a tensor.</summary>
    /// <exception cref="SafetensorsException">No tensor has that name
    /// (<see cref="SafetensorsErrorKind.TensorNotFound"/>).</exception>
    public SafetensorsEntry GetEntry(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return byName.TryGetValue(name, out var entry)
            ? entry
            : throw new SafetensorsException(SafetensorsErrorKind.TensorNotFound, Path,
                $"the file has no tensor of that name ({Entries.Count} tensors)", name);
    }

    /// <summary>Reads one tensor and converts it to <paramref name="target"/> on <paramref name="device"/>.</summary>
    /// <param name="name">The tensor's name in the file.</param>
    /// <param name="target">The dtype of the result (see the class remarks for the supported conversions).</param>
    /// <param name="device">The device of the result; null for the default device.</param>
    /// <returns>A new tensor (a leaf without gradient) named <paramref name="name"/>; the caller owns it.</returns>
    /// <exception cref="SafetensorsException">No such tensor, an unsupported conversion, a value that does not
    /// convert exactly, a dimension too large for this engine, or a file that changed since it was opened.</exception>
    /// <exception cref="BackendUnavailableException">The device is not available.</exception>
    public Tensor Load(string name, DType target = DType.Float32, Device? device = null)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return LoadEntry(GetEntry(name), target, device);
    }

    /// <summary>Reads every tensor: F16/BF16/F32/F64 as <paramref name="floatTarget"/>, integers as Int32, BOOL as
    /// Bool. On failure the tensors already loaded are disposed.</summary>
    /// <param name="floatTarget">Float32, Float64 or BFloat16.</param>
    /// <param name="device">The device of the results; null for the default device.</param>
    /// <returns>Name to tensor, in data-offset order; the caller owns the tensors.</returns>
    /// <exception cref="SafetensorsException">A tensor cannot be loaded (see <see cref="Load"/>).</exception>
    public IReadOnlyDictionary<string, Tensor> LoadAll(DType floatTarget = DType.Float32, Device? device = null)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!floatTarget.IsFloatingPoint())
            throw new ArgumentException($"floatTarget must be a floating-point dtype, not {floatTarget.Name()}",
                nameof(floatTarget));
        var result = new OrderedDictionary<string, Tensor>(Entries.Count, StringComparer.Ordinal);
        try
        {
            foreach (var entry in Entries)
            {
                var target = entry.NaturalTarget(floatTarget) ?? throw Unsupported(entry, floatTarget);
                result.Add(entry.Name, LoadEntry(entry, target, device));
            }
        }
        catch
        {
            foreach (var t in result.Values)
                t.Dispose();
            throw;
        }
        return result;
    }

    /// <summary>The stored bytes of a tensor, exactly as in the file (little-endian, row-major).</summary>
    /// <exception cref="SafetensorsException">No such tensor, or the data exceeds 2 GiB.</exception>
    public byte[] ReadRawBytes(string name)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var entry = GetEntry(name);
        if (entry.ByteLength > Array.MaxLength)
            throw new SafetensorsException(SafetensorsErrorKind.UnsupportedShape, Path,
                $"{entry.ByteLength} bytes do not fit in one array", entry.Name, entry.FileOffset);
        var bytes = new byte[entry.ByteLength];
        source.ReadExactly(entry.FileOffset, bytes, entry.Name);
        return bytes;
    }

    /// <summary>Closes the file.</summary>
    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        source.Dispose();
    }

    private Tensor LoadEntry(SafetensorsEntry entry, DType target, Device? device)
    {
        if (!ElementCodec.CanDecode(entry.FileDType, target))
            throw Unsupported(entry, target);
        var dims = new int[entry.Shape.Count];
        for (var i = 0; i < dims.Length; i++)
        {
            if (entry.Shape[i] > int.MaxValue)
                throw new SafetensorsException(SafetensorsErrorKind.UnsupportedShape, Path,
                    $"dimension {i} is {entry.Shape[i]}, more than this engine's limit {int.MaxValue}", entry.Name,
                    entry.FileOffset);
            dims[i] = (int)entry.Shape[i];
        }
        var backend = BackendRegistry.Get(device ?? BackendRegistry.DefaultDevice);
        var tensor = Tensor.Empty(backend, Shape.Own(dims), target);
        try
        {
            Fill(entry, target, tensor);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
        tensor.Name = entry.Name;
        return tensor;
    }

    private void Fill(SafetensorsEntry entry, DType target, Tensor tensor)
    {
        var count = entry.ElementCount;
        if (count == 0)
            return;
        var srcSize = entry.FileDType.BitSize() / 8;
        var dstSize = target.SizeOf();
        var perChunk = (int)Math.Min(count, ChunkBytes / Math.Max(srcSize, dstSize));
        var src = new byte[perChunk * srcSize];
        var dst = new byte[perChunk * dstSize];
        var buffer = tensor.View.Buffer;
        for (long done = 0; done < count; done += perChunk)
        {
            var n = (int)Math.Min(perChunk, count - done);
            var at = entry.FileOffset + done * srcSize;
            source.ReadExactly(at, src.AsSpan(0, n * srcSize), entry.Name);
            var bad = ElementCodec.Decode(entry.FileDType, target, src, dst, n);
            if (bad >= 0)
                throw new SafetensorsException(SafetensorsErrorKind.ValueOutOfRange, Path,
                    $"element {done + bad} of {entry.DTypeName} {ShapeText(entry)} has no exact {target.Name()} " +
                    $"value{(target == DType.Bool ? " (a bool must be 0 or 1)" : "")}", entry.Name,
                    at + (long)bad * srcSize);
            tensor.Backend.Upload(dst.AsSpan(0, n * dstSize), buffer, done * dstSize);
        }
    }

    private SafetensorsException Unsupported(SafetensorsEntry entry, DType target) =>
        new(SafetensorsErrorKind.UnsupportedConversion, Path,
            $"cannot load {entry.DTypeName} {ShapeText(entry)} as {target.Name()} (F16/BF16/F32/F64 load as " +
            "float32, float64 or bfloat16; integers and BOOL as int32 or bool)", entry.Name, entry.FileOffset);

    private static string ShapeText(SafetensorsEntry entry) => SafetensorsException.FormatDims(entry.Shape);
}
