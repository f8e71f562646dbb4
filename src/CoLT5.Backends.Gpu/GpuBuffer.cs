// A block of device memory owned by the GPU backend: disposing returns it to the backend's caching pool; a
// finalizer only accounts for a leaked block (it never calls the driver, which may be gone by then).
using System;
using System.Threading;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Gpu;

/// <summary>Device memory for <see cref="Length"/> elements of <see cref="DType"/>.</summary>
internal sealed class GpuBuffer : IDeviceBuffer
{
    private readonly GpuBackend backend;
    private int disposed;

    public GpuBuffer(GpuBackend backend, DType dtype, long length, nint handle, long capacity)
    {
        this.backend = backend;
        DType = dtype;
        Length = length;
        Handle = handle;
        Capacity = capacity;
    }

    ~GpuBuffer() => backend.Pool.Leaked(Capacity);

    public IBackend Backend => backend;

    public DType DType { get; }

    public long Length { get; }

    /// <summary>The native memory (cl_mem or CUdeviceptr).</summary>
    public nint Handle { get; }

    /// <summary>The pooled block's size in bytes (at least <see cref="IDeviceBuffer.Bytes"/>).</summary>
    public long Capacity { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
            return;
        backend.Pool.Return(Handle, Capacity);
        GC.SuppressFinalize(this);
    }
}
