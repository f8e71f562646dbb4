// Memory owned by a backend. Disposing returns it to the backend (its pool); a finalizer is only a backstop.
using System;

namespace CoLT5.Tensors.Backends;

/// <summary>A block of device memory holding <see cref="Length"/> elements of <see cref="DType"/>.</summary>
public interface IDeviceBuffer : IDisposable
{
    /// <summary>The backend that allocated the buffer and must run every kernel on it.</summary>
    IBackend Backend { get; }

    /// <summary>Element type.</summary>
    DType DType { get; }

    /// <summary>Number of elements.</summary>
    long Length { get; }

    /// <summary>Size in bytes.</summary>
    long Bytes => Length * DType.SizeOf();
}
