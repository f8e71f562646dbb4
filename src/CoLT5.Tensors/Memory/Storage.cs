// Reference-counted ownership of one device buffer, shared by a tensor and all of its views.
using System;
using System.Threading;
using CoLT5.Tensors.Backends;

namespace CoLT5.Tensors.Memory;

/// <summary>
/// A buffer plus a reference count. Every <see cref="Tensor"/> (including views and the aliases autograd saves)
/// holds one reference; the buffer goes back to its backend's pool when the last one is released. If references
/// leak, the buffer's own finalizer frees the memory (without pooling).
/// </summary>
internal sealed class Storage
{
    private int references = 1;

    public Storage(IDeviceBuffer buffer) => Buffer = buffer;

    public IDeviceBuffer Buffer { get; }

    public IBackend Backend => Buffer.Backend;

    /// <summary>Bumped by every in-place write, so autograd can detect a saved tensor that changed.</summary>
    public int Version { get; private set; }

    public bool IsReleased => Volatile.Read(ref references) <= 0;

    public void AddRef()
    {
        if (Interlocked.Increment(ref references) <= 1)
            throw new ObjectDisposedException(nameof(Storage), "storage was already released");
    }

    public void Release()
    {
        var left = Interlocked.Decrement(ref references);
        if (left == 0)
            Buffer.Dispose();
    }

    public void BumpVersion() => Version++;
}
