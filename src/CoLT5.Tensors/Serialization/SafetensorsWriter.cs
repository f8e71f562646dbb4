// Writes tensors as a safetensors file the way the reference writer lays it out (metadata {"format":"pt"},
// descending dtype alignment then name, contiguous offsets, space padding to 8), through a temp file in the same
// directory that is renamed over the target only once it is complete.
using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace CoLT5.Tensors.Serialization;

/// <summary>Writes safetensors files.</summary>
public static class SafetensorsWriter
{
    private const int ChunkBytes = 1 << 20;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false,
        throwOnInvalidBytes: true);

    /// <summary>
    /// Writes tensors to <paramref name="path"/> atomically: the data goes to a temp file in the same directory,
    /// which replaces the target by a rename only after everything was written and flushed. On failure the target
    /// keeps its previous content (or stays absent) and the temp file is deleted.
    /// </summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="tensors">Name/tensor pairs (any order; enumerated once, before the file is created).</param>
    /// <param name="metadata">Extra "__metadata__" entries, merged over {"format": "pt"} (a given "format"
    /// wins).</param>
    /// <param name="storeAs">The dtype to store floating-point tensors as (Float32, Float64 or BFloat16; null keeps
    /// each tensor's dtype). Int32 tensors are always stored as I32 and Bool tensors as BOOL.</param>
    /// <exception cref="ArgumentException">A duplicate or reserved name ("__metadata__"), an unpaired surrogate
    /// in a name or metadata, or a <paramref name="storeAs"/> that is not a float dtype.</exception>
    /// <exception cref="SafetensorsException">The header would exceed 100,000,000 bytes
    /// (<see cref="SafetensorsErrorKind.HeaderTooLarge"/>).</exception>
    public static void Write(string path, IEnumerable<(string Name, Tensor Tensor)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null, DType? storeAs = null)
    {
        SafetensorsDType? format = storeAs switch
        {
            null => null,
            DType.Float32 => SafetensorsDType.F32,
            DType.Float64 => SafetensorsDType.F64,
            DType.BFloat16 => SafetensorsDType.BF16,
            _ => throw new ArgumentException($"storeAs must be a floating-point dtype, not {storeAs.Value.Name()}",
                nameof(storeAs)),
        };
        Write(path, tensors, metadata, format, null);
    }

    /// <summary>
    /// Like the other overload, storing floating-point tensors as <paramref name="storeFloatsAs"/>: F16 (IEEE half,
    /// round to nearest-even), BF16 (round to nearest-even), F32 or F64.
    /// </summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="tensors">Name/tensor pairs (any order; enumerated once, before the file is created).</param>
    /// <param name="metadata">Extra "__metadata__" entries, merged over {"format": "pt"}.</param>
    /// <param name="storeFloatsAs">The file dtype of every floating-point tensor.</param>
    /// <exception cref="ArgumentException">A bad name or metadata, or a <paramref name="storeFloatsAs"/> other than
    /// F16, BF16, F32 or F64.</exception>
    /// <exception cref="SafetensorsException">The header would exceed 100,000,000 bytes.</exception>
    public static void Write(string path, IEnumerable<(string Name, Tensor Tensor)> tensors,
        IReadOnlyDictionary<string, string>? metadata, SafetensorsDType storeFloatsAs)
    {
        if (!storeFloatsAs.IsLoadableFloat())
            throw new ArgumentException($"storeFloatsAs must be F16, BF16, F32 or F64, not {storeFloatsAs}",
                nameof(storeFloatsAs));
        Write(path, tensors, metadata, storeFloatsAs, null);
    }

    /// <summary>The writer proper; <paramref name="afterTensor"/> (tests) runs after each tensor's data is written
    /// to the temp file, with the tensor's index in file order.</summary>
    internal static void Write(string path, IEnumerable<(string Name, Tensor Tensor)> tensors,
        IReadOnlyDictionary<string, string>? metadata, SafetensorsDType? floatFormat, Action<int>? afterTensor)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var fullPath = Path.GetFullPath(path);
        var planned = Plan(tensors, floatFormat);
        var headerBytes = BuildHeader(fullPath, planned, metadata);

        var directory = Path.GetDirectoryName(fullPath) ?? ".";
        var stem = Path.GetFileName(fullPath);
        var temp = Path.Combine(directory, $".{stem[..Math.Min(stem.Length, 64)]}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Span<byte> lengthField = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(lengthField, (ulong)headerBytes.Length);
                stream.Write(lengthField);
                stream.Write(headerBytes);
                for (var i = 0; i < planned.Count; i++)
                {
                    WriteData(stream, planned[i]);
                    afterTensor?.Invoke(i);
                }
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, fullPath, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static List<Planned> Plan(IEnumerable<(string Name, Tensor Tensor)> tensors, SafetensorsDType? floatFormat)
    {
        var planned = new List<Planned>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            if (name is null)
                throw new ArgumentException("a tensor name is null", nameof(tensors));
            ArgumentNullException.ThrowIfNull(tensor, $"tensors['{name}']");
            if (name == SafetensorsHeader.MetadataKey)
                throw new ArgumentException($"'{SafetensorsHeader.MetadataKey}' is reserved for the metadata and " +
                    "cannot name a tensor", nameof(tensors));
            if (!names.Add(name))
                throw new ArgumentException($"the tensor name '{SafetensorsException.Printable(name)}' is given " +
                    "more than once", nameof(tensors));
            ObjectDisposedException.ThrowIf(tensor.IsDisposed, tensor);
            var fileType = tensor.DType switch
            {
                DType.Int32 => SafetensorsDType.I32,
                DType.Bool => SafetensorsDType.Bool,
                DType.Float32 => floatFormat ?? SafetensorsDType.F32,
                DType.Float64 => floatFormat ?? SafetensorsDType.F64,
                DType.BFloat16 => floatFormat ?? SafetensorsDType.BF16,
                _ => throw new ArgumentException($"tensor '{name}' has dtype {tensor.DType.Name()}, which " +
                    "safetensors cannot store", nameof(tensors)),
            };
            byte[] utf8;
            try
            {
                utf8 = StrictUtf8.GetBytes(name);
            }
            catch (EncoderFallbackException e)
            {
                throw new ArgumentException($"the tensor name '{SafetensorsException.Printable(name)}' is not " +
                    "valid Unicode (it has an unpaired surrogate)", nameof(tensors), e);
            }
            var bytes = checked(tensor.NumElements * (fileType.BitSize() / 8));
            planned.Add(new Planned(name, utf8, tensor, fileType, bytes));
        }
        // The reference order: descending dtype (alignment), then name (UTF-8 byte order).
        planned.Sort(static (a, b) =>
        {
            var c = ((int)b.FileType).CompareTo((int)a.FileType);
            return c != 0 ? c : a.Utf8Name.AsSpan().SequenceCompareTo(b.Utf8Name);
        });
        return planned;
    }

    private static byte[] BuildHeader(string path, List<Planned> planned, IReadOnlyDictionary<string, string>? metadata)
    {
        var meta = new List<KeyValuePair<string, string>> { new("format", "pt") };
        if (metadata is not null)
        {
            var extra = new List<KeyValuePair<string, string>>();
            foreach (var (key, value) in metadata)
            {
                if (key is null || value is null)
                    throw new ArgumentException("metadata keys and values must not be null", nameof(metadata));
                if (key == "format")
                    meta[0] = new(key, value);
                else
                    extra.Add(new(key, value));
            }
            extra.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
            meta.AddRange(extra);
        }

        var json = new HeaderJsonBuilder(path, (long)SafetensorsHeader.MaxHeaderLength);
        json.Raw("{").String(SafetensorsHeader.MetadataKey, "key").Raw(":{");
        for (var i = 0; i < meta.Count; i++)
        {
            if (i > 0)
                json.Raw(",");
            json.String(meta[i].Key, "metadata key").Raw(":").String(meta[i].Value, "metadata value");
        }
        json.Raw("}");
        long offset = 0;
        foreach (var p in planned)
        {
            json.Raw(",").String(p.Name, "tensor name").Raw(":{\"dtype\":").String(p.FileType.FileName(), "dtype")
                .Raw(",\"shape\":[");
            var dims = p.Tensor.Shape.Dims;
            for (var d = 0; d < dims.Length; d++)
            {
                if (d > 0)
                    json.Raw(",");
                json.Number(dims[d]);
            }
            json.Raw("],\"data_offsets\":[").Number(offset).Raw(",").Number(offset + p.ByteLength).Raw("]}");
            offset += p.ByteLength;
        }
        json.Raw("}");
        return json.ToPaddedArray();
    }

    private static void WriteData(FileStream stream, Planned p)
    {
        var tensor = p.Tensor;
        var count = tensor.NumElements;
        if (count == 0)
            return;
        using var dense = tensor.IsContiguous ? tensor.Alias() : tensor.ContiguousCopy();
        var srcSize = tensor.DType.SizeOf();
        var dstSize = p.FileType.BitSize() / 8;
        var perChunk = (int)Math.Min(count, ChunkBytes / Math.Max(srcSize, dstSize));
        var src = new byte[perChunk * srcSize];
        var dst = new byte[perChunk * dstSize];
        var view = dense.View;
        for (long done = 0; done < count; done += perChunk)
        {
            var n = (int)Math.Min(perChunk, count - done);
            dense.Backend.Download(view.Buffer, (dense.Offset + done) * srcSize, src.AsSpan(0, n * srcSize));
            ElementCodec.Encode(tensor.DType, p.FileType, src, dst, n);
            stream.Write(dst, 0, n * dstSize);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private sealed record Planned(string Name, byte[] Utf8Name, Tensor Tensor, SafetensorsDType FileType,
        long ByteLength);
}
