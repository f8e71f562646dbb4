// The kernel-level contract one GPU API must provide: device memory, copies, one in-order queue, run-time
// compilation of the portable kernel dialect, launches. OpenClRuntime and CudaRuntime implement it; GpuBackend
// maps every tensor op onto it once.
using System;

namespace CoLT5.Backends.Gpu.Runtime;

/// <summary>What a runtime knows about its device.</summary>
/// <param name="Api">"OpenCL" or "CUDA".</param>
/// <param name="Name">The device's name as the driver reports it.</param>
/// <param name="Driver">Platform / driver version text.</param>
/// <param name="MemoryBytes">Global memory.</param>
/// <param name="ComputeUnits">Compute units (OpenCL) or multiprocessors (CUDA).</param>
/// <param name="Architecture">A compile target ("sm_90") or the OpenCL C version text.</param>
public sealed record GpuDeviceInfo(string Api, string Name, string Driver, long MemoryBytes, int ComputeUnits,
    string Architecture)
{
    /// <summary>"CUDA NVIDIA H100 80GB HBM3 (sm_90, 132 units, 79.1 GiB)".</summary>
    public override string ToString() =>
        $"{Api} {Name} ({Architecture}, {ComputeUnits} units, {MemoryBytes / (double)(1L << 30):F1} GiB, {Driver})";
}

/// <summary>A launch shape: number of work-groups (CUDA blocks) and work-group size per dimension.</summary>
public readonly record struct Dim3(int X, int Y = 1, int Z = 1)
{
    /// <summary>X·Y·Z.</summary>
    public long Count => (long)X * Y * Z;
}

/// <summary>A compiled program (cl_program / CUmodule) owned by its runtime.</summary>
public sealed class GpuProgram(nint handle, string name)
{
    /// <summary>The native handle.</summary>
    public nint Handle { get; } = handle;

    /// <summary>The kernel file and options it was built from, for messages.</summary>
    public string Name { get; } = name;
}

/// <summary>A kernel entry point (cl_kernel / CUfunction) owned by its runtime.</summary>
public sealed class GpuKernel(nint handle, string name)
{
    /// <summary>The native handle.</summary>
    public nint Handle { get; } = handle;

    /// <summary>"file.h:entry", for messages.</summary>
    public string Name { get; } = name;
}

/// <summary>
/// One GPU API over one device. Every method may be called from any thread (implementations serialise on one
/// lock and make their context current); work is enqueued in order on a single queue; only
/// <see cref="Download"/> and <see cref="Synchronize"/> wait. Release paths never throw.
/// </summary>
internal interface IGpuRuntime : IDisposable
{
    /// <summary>The device.</summary>
    GpuDeviceInfo Info { get; }

    /// <summary>Which prelude the kernels are compiled with: "opencl" or "cuda".</summary>
    string Dialect { get; }

    /// <summary>Allocates <paramref name="bytes"/> of device memory (uninitialised).</summary>
    /// <exception cref="GpuException">The driver refused (out of memory is <see cref="GpuOutOfMemoryException"/>).</exception>
    nint Allocate(long bytes);

    /// <summary>Frees memory from <see cref="Allocate"/> (after the queued work that uses it). Never throws.</summary>
    void Free(nint memory);

    /// <summary>Copies host bytes to device memory at a byte offset; <paramref name="source"/> may be reused on
    /// return.</summary>
    void Upload(ReadOnlySpan<byte> source, nint destination, long byteOffset);

    /// <summary>Waits for the queue, then copies device bytes at a byte offset to the host.</summary>
    void Download(nint source, long byteOffset, Span<byte> destination);

    /// <summary>Enqueues a device-to-device copy of <paramref name="bytes"/> bytes.</summary>
    void CopyDeviceToDevice(nint source, long sourceOffset, nint destination, long destinationOffset, long bytes);

    /// <summary>Compiles a whole program from source (the prelude already prepended).</summary>
    /// <exception cref="GpuCompileException">The compiler rejected it; the exception carries the log.</exception>
    GpuProgram Compile(string source, string name, string[] defines);

    /// <summary>The program's device binary (OpenCL binary, CUBIN or PTX) for the on-disk cache, or null.</summary>
    byte[]? ProgramBinary(GpuProgram program);

    /// <summary>Loads a binary from <see cref="ProgramBinary"/>; null when the driver no longer accepts it.</summary>
    GpuProgram? LoadBinary(byte[] binary, string name);

    /// <summary>A kernel of a program by entry-point name.</summary>
    GpuKernel GetKernel(GpuProgram program, string entry);

    /// <summary>Enqueues a launch of <paramref name="groups"/> work-groups of <paramref name="groupSize"/>
    /// threads.</summary>
    void Launch(GpuKernel kernel, Dim3 groups, Dim3 groupSize, in KernelArgs args);

    /// <summary>Waits for the queue and surfaces asynchronous errors.</summary>
    void Synchronize();

    /// <summary>Device-side identity for cache keys: API, device name, driver version, architecture.</summary>
    string CacheIdentity { get; }
}
