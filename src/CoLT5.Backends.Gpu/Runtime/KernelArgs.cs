// The argument list of one kernel launch, built on the stack (arguments are appended in the kernel's order): buffers (device pointer / cl_mem), 32- and 64-bit
// integers, floats and small by-value structs (strided layouts). Each runtime marshals it its own way.
using System;
using System.Runtime.CompilerServices;

namespace CoLT5.Backends.Gpu.Runtime;

/// <summary>What one argument is.</summary>
internal enum KernelArgKind : byte
{
    Buffer,
    Int32,
    Int64,
    Float32,
    Blob,
}

/// <summary>
/// Up to <see cref="Capacity"/> launch arguments with their values in one inline byte area (8-byte aligned slots,
/// blobs as long as they need). Buffers are native handles; a kernel gets offsets as separate integer arguments,
/// since OpenCL has no arithmetic on cl_mem.
/// </summary>
internal unsafe struct KernelArgs
{
    public const int Capacity = 32;
    private const int AreaBytes = 2048;

    private fixed byte kinds[Capacity];
    private fixed int starts[Capacity];
    private fixed int sizes[Capacity];
    private fixed byte area[AreaBytes];
    private int used;

    /// <summary>Number of arguments.</summary>
    public int Count { get; private set; }

    public void Buffer(nint handle) => Put(KernelArgKind.Buffer, &handle, sizeof(nint));

    public void Int(int value) => Put(KernelArgKind.Int32, &value, sizeof(int));

    public void Long(long value) => Put(KernelArgKind.Int64, &value, sizeof(long));

    public void Float(float value) => Put(KernelArgKind.Float32, &value, sizeof(float));

    /// <summary>A by-value struct whose bytes match the kernel's C layout.</summary>
    public void Struct<T>(in T value) where T : unmanaged
    {
        fixed (T* p = &value)
            Put(KernelArgKind.Blob, p, sizeof(T));
    }

    public readonly KernelArgKind KindAt(int i) => (KernelArgKind)kinds[i];

    public readonly int SizeAt(int i) => sizes[i];

    /// <summary>Pointer to argument i's value; valid while this struct is pinned or on the stack.</summary>
    public readonly byte* ValueAt(int i)
    {
        fixed (byte* a = area)
            return a + starts[i];
    }

    private void Put(KernelArgKind kind, void* value, int size)
    {
        if (Count == Capacity || used + size > AreaBytes)
            throw new InvalidOperationException($"a kernel launch takes at most {Capacity} arguments / {AreaBytes} bytes");
        fixed (byte* a = area)
            Unsafe.CopyBlock(a + used, value, (uint)size);
        kinds[Count] = (byte)kind;
        starts[Count] = used;
        sizes[Count] = size;
        used += (size + 7) & ~7;
        Count++;
    }
}
