// Host memory behind the CPU and reference backends: a pooled, 64-byte-aligned native block.
using System;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;

namespace CoLT5.Backends.Cpu.Memory;

/// <summary>
/// A native block rented from <see cref="HostMemoryPool"/>. <see cref="Dispose"/> returns it to the pool; if a
/// buffer is dropped without disposal, the finalizer returns it instead (late, but without leaking).
/// </summary>
internal sealed unsafe class CpuBuffer : IDeviceBuffer
{
    private readonly HostMemoryPool pool;
    private readonly long capacity;
    private nint pointer;

    public CpuBuffer(IBackend backend, HostMemoryPool pool, DType dtype, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Backend = backend;
        DType = dtype;
        Length = length;
        this.pool = pool;
        pointer = pool.Rent(Math.Max(1, checked(length * dtype.SizeOf())), out capacity);
    }

    ~CpuBuffer() => ReturnBlock();

    public IBackend Backend { get; }

    public DType DType { get; }

    public long Length { get; }

    /// <summary>Start of the block.</summary>
    /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
    public void* Pointer => pointer != 0 ? (void*)pointer
        : throw new ObjectDisposedException(nameof(CpuBuffer), "buffer was disposed");

    public void Dispose()
    {
        ReturnBlock();
        GC.SuppressFinalize(this);
    }

    private void ReturnBlock()
    {
        var p = System.Threading.Interlocked.Exchange(ref pointer, 0);
        if (p != 0)
            pool.Return(p, capacity);
    }
}
